import * as resources from '@opentelemetry/resources';
import { expect } from 'chai';
import { sdkResource } from '../../../../src/otel/binding/sdk-resource.js';

// The SDK's env detector reads process.env itself: each case sets and restores the two.
const KEYS = ['OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SERVICE_NAME'] as const;

function withEnv<T>(values: Partial<Record<(typeof KEYS)[number], string>>, fn: () => T): T {
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  for (const key of KEYS) {
    const value = values[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return fn();
  } finally {
    for (const key of KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

describe('a resource as the OTel SDK makes one', () => {
  it("has the SDK's telemetry.sdk.* and the defaults where no variable is set", () => {
    const { attributes } = withEnv({}, () =>
      sdkResource(resources, { 'service.name': 'carbonscope-cli' }),
    );
    expect(attributes['telemetry.sdk.language']).to.equal('nodejs');
    expect(attributes['telemetry.sdk.name']).to.equal('opentelemetry');
    expect(attributes['service.name']).to.equal('carbonscope-cli');
  });

  it("lets the variables win over the defaults, and the caller's own keys over both", () => {
    const { attributes } = withEnv(
      {
        OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7,team=a%20b,service.name=from-list',
        OTEL_SERVICE_NAME: 'shop',
      },
      () =>
        sdkResource(
          resources,
          { 'service.name': 'carbonscope-cli', 'service.instance.id': 'default' },
          { 'service.instance.id': 'run-1' },
        ),
    );
    expect(attributes['service.name']).to.equal('shop');
    expect(attributes.team).to.equal('a b');
    expect(attributes['service.instance.id']).to.equal('run-1');
  });
});
