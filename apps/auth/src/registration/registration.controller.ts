import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { OAuthError } from '@gateway/oauth';
import type { FastifyRequest } from 'fastify';
import { AuthEnv } from '../config/auth.env';
import { ClientIpResolver, rateLimitKeyOf } from '../http/client-ip';
import { type RateLimit, RateLimiter } from '../http/rate-limiter';
import { ENDPOINT_PATHS } from '../http/endpoints';
import type { ClientRecord } from '../store/records';
import { type ClientInformation, RegistrationService } from './registration.service';

/**
 * RFC 7591 `POST /register` (public) and RFC 7592 `/register/{client_id}` (registration access token).
 * Responses carry `Cache-Control: no-store` (RFC 7591 §3.2.1, RFC 7592 §3).
 */
@Controller(ENDPOINT_PATHS.registration)
export class RegistrationController {
  private readonly registrations: RateLimit;
  private readonly failedManagement: RateLimit;

  public constructor(
    private readonly registration: RegistrationService,
    private readonly limiter: RateLimiter,
    private readonly clientIp: ClientIpResolver,
    env: AuthEnv,
  ) {
    // An open endpoint must not be able to fill the store (docs/security.md S8): registrations per IP, and the
    // same budget for failed management attempts (guessing registration tokens).
    this.registrations = {
      bucket: 'register',
      limit: env.REGISTRATION_RATE_LIMIT,
      windowSeconds: env.REGISTRATION_RATE_WINDOW,
    };
    this.failedManagement = {
      bucket: 'register-auth',
      limit: env.REGISTRATION_RATE_LIMIT,
      windowSeconds: env.REGISTRATION_RATE_WINDOW,
    };
  }

  @Post()
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  public async register(@Req() request: FastifyRequest, @Body() body: unknown): Promise<ClientInformation> {
    await this.limiter.consume(this.registrations, this.ipOf(request));
    requireJson(request);
    return this.registration.register(body);
  }

  @Get(':clientId')
  @Header('cache-control', 'no-store')
  public async read(@Req() request: FastifyRequest, @Param('clientId') clientId: string): Promise<ClientInformation> {
    const { client, token } = await this.authenticate(request, clientId);
    return this.registration.read(client, token);
  }

  @Put(':clientId')
  @Header('cache-control', 'no-store')
  public async replace(
    @Req() request: FastifyRequest,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ): Promise<ClientInformation> {
    const { client } = await this.authenticate(request, clientId);
    requireJson(request);
    return this.registration.replace(client, body);
  }

  @Delete(':clientId')
  @HttpCode(204)
  @Header('cache-control', 'no-store')
  public async delete(@Req() request: FastifyRequest, @Param('clientId') clientId: string): Promise<void> {
    const { client } = await this.authenticate(request, clientId);
    await this.registration.delete(client);
  }

  private async authenticate(
    request: FastifyRequest,
    clientId: string,
  ): Promise<{ client: ClientRecord; token: string }> {
    const ip = this.ipOf(request);
    await this.limiter.assertAvailable(this.failedManagement, ip);
    try {
      return await this.registration.authenticate(clientId, request.headers.authorization);
    } catch (error) {
      await this.limiter.consume(this.failedManagement, ip);
      throw error;
    }
  }

  private ipOf(request: FastifyRequest): string {
    return rateLimitKeyOf(this.clientIp.resolve(request.socket.remoteAddress, request.headers['x-forwarded-for']));
  }
}

/** RFC 7591 §3.1: the body is JSON. A form or text body is a 415, not metadata. */
function requireJson(request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new OAuthError('invalid_request', 'send the client metadata as Content-Type: application/json', {
      status: 415,
    });
}
