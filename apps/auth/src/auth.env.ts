import { StorageEnv } from '@gateway/storage';

/** Configuration of auth (see .env.example). */
export class AuthEnv extends StorageEnv {
  public override PORT = 3000;
}
