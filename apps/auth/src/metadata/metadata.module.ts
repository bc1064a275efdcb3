import { Module } from '@nestjs/common';
import { MetadataController } from './metadata.controller';

/** RFC 8414 and RFC 9728 documents. */
@Module({ controllers: [MetadataController] })
export class MetadataModule {}
