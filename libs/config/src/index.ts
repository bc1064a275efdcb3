export { BaseEnv } from './lib/base-env';
export { ConfigModule, loadEnv, loadRawEnv } from './lib/config.module';
export { EnvBoolean, EnvDerived, type EnvDeriver, EnvInt, EnvList, Secret } from './lib/env-decorators';
export { ConfigValidationError, validateEnv } from './lib/validate-env';
