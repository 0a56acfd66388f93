import { type Context, context, createContextKey } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { expect } from 'chai';
import { contextPropagates } from '../../../src/otel/spans.js';

/**
 * A context manager that makes the context it runs a function in from the one it is given, as
 * Sentry's does (@sentry/node 8 to 10: its SentryContextManager sets its scopes on it): what it
 * makes active holds every value given, but is another object.
 */
class DerivingContextManager extends AsyncLocalStorageContextManager {
  private static readonly SCOPES = createContextKey('scopes');
  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return super.with(ctx.setValue(DerivingContextManager.SCOPES, {}), fn, thisArg, ...args);
  }
}

describe('otel: whether a context can be active (contextPropagates)', () => {
  afterEach(() => context.disable());

  it('says no without a context manager, yes once one is registered, no after it is gone', () => {
    expect(contextPropagates()).to.equal(false);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(contextPropagates()).to.equal(true);
    context.disable();
    expect(contextPropagates()).to.equal(false);
  });

  it('says yes under a context manager that derives the context it makes active (Sentry 10)', () => {
    // Asked whether the very context given was active, it said no for ever under Sentry: no
    // request captured its server span, and none of Sentry's transactions had a figure (0 of 30).
    context.setGlobalContextManager(new DerivingContextManager().enable());
    expect(contextPropagates()).to.equal(true);
  });

  it('leaves the active context as it was', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const before = context.active();
    contextPropagates();
    expect(context.active()).to.equal(before);
  });
});
