import { itKeepsTheServiceLifecycle } from '@gateway/testing';

describe('fetchs lifecycle', () => {
  itKeepsTheServiceLifecycle('fetchs');
});
