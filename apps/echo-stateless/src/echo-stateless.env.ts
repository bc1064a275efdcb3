import { BaseEnv } from '@gateway/config';

/** Configuration of echo-stateless (see .env.example). */
export class EchoStatelessEnv extends BaseEnv {
  public override PORT = 3101;
}
