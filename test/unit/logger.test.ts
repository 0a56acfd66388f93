import { expect } from 'chai';
import { loadConfig, redactConfig, secretsOf } from '../../src/config.js';
import { captureLogger } from '../helpers/log.js';

describe('logger', () => {
  it('redacts apiKey fields and masks a secret value wherever it appears', () => {
    const { logger, lines } = captureLogger('info', ['sk-very-secret']);
    logger.info({ apiKey: 'plain-key', config: { llm: { apiKey: 'nested-key' } } }, 'config');
    logger.warn({ err: new Error('upstream said: bad key sk-very-secret') }, 'upstream failed');
    logger.info({ deep: { down: { token: 'sk-very-secret' } } }, 'odd place');
    const text = lines.join('\n');
    expect(lines).to.have.length(3);
    expect(text).not.to.include('plain-key');
    expect(text).not.to.include('nested-key');
    expect(text).not.to.include('sk-very-secret');
    expect(text.match(/\[redacted\]/g)).to.have.length.of.at.least(4);
  });

  it('says nothing of a key that is not set (no "[redacted]" for an absent key)', () => {
    const { logger, lines } = captureLogger('info');
    logger.info({ config: redactConfig(loadConfig({})) }, 'starting carbonscope');
    const logged = JSON.parse(lines[0] ?? '{}') as { config: { grid: object; llm: object } };
    expect(lines[0]).not.to.include('[redacted]');
    expect(logged.config.grid).not.to.have.property('apiKey');
    expect(logged.config.llm).not.to.have.property('apiKey');
  });

  it('masks a password that begins with the user name whole, not just its first part', () => {
    // Base URLs with credentials are refused at start (config.test.ts); a user and password
    // can still reach a line from elsewhere, an upstream's echo of them, say.
    const url = 'https://admin:admin-PW9SECRET@api.example/v3';
    const { logger, lines } = captureLogger('info', ['admin', 'admin-PW9SECRET']);
    logger.warn({ reason: `cannot fetch ${url}` }, 'grid lookup failed');
    expect(lines[0]).not.to.include('PW9SECRET');
    expect(lines[0]).to.include('https://[redacted]:[redacted]@api.example/v3');
  });

  it('masks a secret holding a quote or a backslash in its JSON-escaped form too', () => {
    // In a JSON line the secret is written escaped (\" and \\): the raw form never matches.
    const secret = 'ab"c\\d-SECRET';
    const { logger, lines } = captureLogger('info', [secret]);
    logger.warn({ err: new Error(`upstream refused key ${secret}`) }, 'upstream failed');
    logger.warn({ detail: `key=${secret}` }, `bad key ${secret}`);
    const text = lines.join('\n');
    expect(lines).to.have.length(2);
    expect(text).not.to.include(secret);
    expect(text).not.to.include(JSON.stringify(secret).slice(1, -1));
    expect(text).not.to.include('d-SECRET');
    expect(text.match(/\[redacted\]/g)).to.have.length.of.at.least(4);
  });

  it('masks a secret an upstream echoed in JSON that another JSON error embeds', () => {
    // The upstream escapes the key once, the gateway's error twice, the log line thrice.
    const secret = 'ab"c\\d-SECRET';
    const upstream = JSON.stringify({ message: `bad key ${secret}` });
    const gateway = JSON.stringify({ error: upstream, status: 401 });
    const { logger, lines } = captureLogger('info', [secret]);
    logger.warn({ body: gateway, err: new Error(`upstream said ${gateway}`) }, 'upstream failed');
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.include('d-SECRET');
    expect(lines[0].match(/\[redacted\]/g)).to.have.length.of.at.least(2);
  });

  it('masks a secret an upstream echoed percent-encoded, with upper or lowercase hex', () => {
    const secret = 'k3y/AB+c9==';
    const upper = encodeURIComponent(secret);
    const lower = upper.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    const { logger, lines } = captureLogger('info', [secret]);
    logger.warn({ url: `/v3/latest?auth-token=${upper}` }, `upstream echoed ${lower}`);
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.include('k3y');
    expect(lines[0]).to.include('"msg":"upstream echoed [redacted]"');
    expect(lines[0]).to.include('auth-token=[redacted]');
  });

  // ELECTRICITY_MAPS_API_KEY=k masked every `k` of every line (`"[redacted]ind":"networ[redacted]"`).
  // A key or a password is a secret by what it is: masked alone from 3 characters, never shorter.
  it('leaves keys of a letter or two alone, masks one of 3 and a 7-character password', () => {
    const line = 'kind network, exit 1, pass x7 on';
    for (const [grid, llm, shown] of [
      ['k', 'x', line],
      ['k1', 'x7', line],
      ['exi', 'on', 'kind network, [redacted]t 1, pass x7 on'],
      ['k', 'network', 'kind [redacted], exit 1, pass x7 on'],
    ]) {
      const config = loadConfig({ ELECTRICITY_MAPS_API_KEY: grid, LLM_API_KEY: llm });
      const { logger, lines } = captureLogger('info', secretsOf(config));
      logger.info(line);
      expect(lines[0], `${grid} ${llm}`).to.include(`"msg":"${shown}"`);
    }
    const baseUrl = 'https://al:pa55wrd@llm.example/v1'; // refused at start, echoed from elsewhere
    const config = loadConfig({});
    const secrets = secretsOf({ ...config, llm: { ...config.llm, baseUrl } });
    const { logger, lines } = captureLogger('info', secrets);
    logger.info('refused pa55wrd, al:pa55wrd at https://al:pa55wrd@llm.example/v1');
    expect(lines[0]).to.include(
      '"msg":"refused [redacted], [redacted] at https://[redacted]@llm.example/v1"',
    );
  });

  it('masks a URL password but not a short user name inside ordinary words', () => {
    // A user name is no secret; masked everywhere, `al` would mangle "total" on every line.
    const config = loadConfig({});
    const url = 'https://al:PWSECRET9@llm.example/v1';
    const secrets = secretsOf({ ...config, llm: { ...config.llm, baseUrl: url } });
    const { logger, lines } = captureLogger('info', secrets);
    logger.info({ reason: `cannot fetch ${url}` }, 'total energy of all calls');
    logger.info(`user al said PWSECRET9 and al:PWSECRET9 at http://al@llm.example/`);
    expect(lines[0]).to.include('"msg":"total energy of all calls"');
    expect(lines[0]).to.include('cannot fetch https://[redacted]@llm.example/v1');
    expect(lines[1]).to.include(
      'user al said [redacted] and [redacted] at http://[redacted]@llm.example/',
    );
    expect(lines.join('\n')).not.to.include('PWSECRET9');
  });
  it('keeps an LLM_BASE_URL whose query holds no secret, as configured and in log lines', () => {
    // Azure OpenAI's base URL carries `api-version`: no credential, and the operator needs it.
    const url = 'https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-06-01';
    const config = loadConfig({ LLM_BASE_URL: url });
    expect(redactConfig(config).llm.baseUrl).to.equal(url);
    const { logger, lines } = captureLogger('info', secretsOf(config));
    logger.warn({ reason: `cannot fetch ${url}` }, 'LLM call failed on 2024-06-01');
    expect(lines[0]).to.include(`cannot fetch ${url}`);
    expect(lines[0]).to.include('"msg":"LLM call failed on 2024-06-01"');
    expect(lines[0]).not.to.include('[redacted]');
  });

  it('masks a secret-named query value of LLM_BASE_URL, in the config and in log lines', () => {
    const url = 'https://llm.example/v1?api-version=2024-06-01&Api-Key=llm-QUERY-KEY-77';
    const config = loadConfig({ LLM_BASE_URL: url });
    expect(redactConfig(config).llm.baseUrl).to.equal(
      'https://llm.example/v1?api-version=2024-06-01&Api-Key=[redacted]',
    );
    const { logger, lines } = captureLogger('info', secretsOf(config));
    logger.warn({ reason: `cannot fetch ${url}` }, 'upstream echoed llm-QUERY-KEY-77');
    expect(lines[0]).not.to.include('llm-QUERY-KEY-77');
    expect(lines[0]).to.include('api-version=2024-06-01&Api-Key=[redacted]');
  });

  it("masks the OTLP exporters' endpoint passwords and header tokens", () => {
    // The exporters read these variables themselves; they are no settings, yet secrets.
    const env = {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://push:OTLP-PW-42@collector.example:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer tok-HEADER-9f8e7d',
    };
    const { logger, lines } = captureLogger('info', secretsOf(loadConfig(env), env));
    logger.warn(
      { reason: 'refused Bearer tok-HEADER-9f8e7d' },
      `push to ${env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT}`,
    );
    expect(lines[0]).not.to.include('OTLP-PW-42');
    expect(lines[0]).not.to.include('tok-HEADER-9f8e7d');
    expect(lines[0]).to.include('[redacted]');
  });
});
