import { Module } from '@nestjs/common';
import { topologyProvider } from '../topology.provider';
import { MetadataController } from './metadata.controller';

@Module({ controllers: [MetadataController], providers: [topologyProvider] })
export class MetadataModule {}
