import { BaseEnv } from '@gateway/config';

/** Configuration of stdio-proxy (see .env.example). */
export class StdioProxyEnv extends BaseEnv {
  public override PORT = 3201;
}
