import { BaseEnv } from '@gateway/config';

/** Configuration of fetchs (see .env.example). */
export class FetchsEnv extends BaseEnv {
  public override PORT = 3103;
}
