import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * Runs `body` with a real SDK's tracer provider and context manager registered globally, each
 * span exported as it ends to the in-memory exporter given; both are unregistered after it.
 */
export async function withInMemoryTracing<T>(
  body: (provider: BasicTracerProvider, exporter: InMemorySpanExporter) => Promise<T>,
): Promise<T> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  try {
    return await body(provider, exporter);
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
  }
}
