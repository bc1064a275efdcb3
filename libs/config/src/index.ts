export { BaseEnv } from './lib/base-env';
export { ConfigModule, loadRawEnv } from './lib/config.module';
export { EnvBoolean, EnvInt, EnvList, Secret } from './lib/env-decorators';
export { ConfigValidationError, validateEnv } from './lib/validate-env';
