import { itKeepsTheServiceLifecycle } from '@gateway/testing';

describe('echo-stateless lifecycle', () => {
  itKeepsTheServiceLifecycle('echo-stateless');
});
