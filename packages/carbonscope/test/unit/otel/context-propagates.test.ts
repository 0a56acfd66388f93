import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { expect } from 'chai';
import { contextPropagates } from '../../../src/otel/spans.js';

describe('otel: whether a context can be active (contextPropagates)', () => {
  afterEach(() => context.disable());

  it('says no without a context manager, yes once one is registered, no after it is gone', () => {
    expect(contextPropagates()).to.equal(false);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(contextPropagates()).to.equal(true);
    context.disable();
    expect(contextPropagates()).to.equal(false);
  });

  it('leaves the active context as it was', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const before = context.active();
    contextPropagates();
    expect(context.active()).to.equal(before);
  });
});
