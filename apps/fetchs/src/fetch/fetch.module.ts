import { Global, Module } from '@nestjs/common';
import { FetchService } from './fetch.service';

/** Provides FetchService to the whole app (global, so that McpHttpModule can inject it into the server factory). */
@Global()
@Module({ providers: [FetchService], exports: [FetchService] })
export class FetchModule {}
