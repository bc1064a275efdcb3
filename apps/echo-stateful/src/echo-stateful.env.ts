import { StorageEnv } from '@gateway/storage';

/** Configuration of echo-stateful (see .env.example). */
export class EchoStatefulEnv extends StorageEnv {
  public override PORT = 3102;
}
