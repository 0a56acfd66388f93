import { expect } from 'chai';
import {
  logLevelFrom,
  longestFirst,
  redactedExcerpt,
  redactionList,
  redactSecrets,
  stderrLogger,
} from '../../src/log.js';
import { otlpSecretsOf } from '../../src/settings.js';
import { maskUrlText, urlSecrets, withoutCredentials } from '../../src/url-credentials.js';
import { offThread, stopOffThread } from '../helpers/off-thread.js';

describe('redaction', () => {
  it('redacts the longest secret first, whatever order it is given in', () => {
    const text = 'https://admin:admin-PW9SECRET@api.example';
    for (const secrets of [
      ['admin', 'admin-PW9SECRET'],
      ['admin-PW9SECRET', 'admin'],
    ]) {
      expect(redactSecrets(text, secrets)).to.equal('https://[redacted]:[redacted]@api.example');
    }
  });

  it('masks both of two secrets that overlap: the longer replaced first left the rest of the other', () => {
    // A password that holds `?token=...` and the token's value, which runs on past the password.
    const secrets = ['s3cr3t?token=ab', 'ab@collector/v1/metrics', '//al:'];
    const text = 'curl: (7) http://al:s3cr3t?token=ab@collector/v1/metrics failed';
    expect(redactSecrets(text, secrets)).to.equal('curl: (7) http://[redacted]:[redacted] failed');
    expect(redactSecrets('a PW-1 b PW-1', ['PW-1'])).to.equal('a [redacted] b [redacted]');
    expect(redactSecrets('k=abcd', ['ab', 'cd'])).to.equal('k=[redacted][redacted]');
    // 200 K occurrences, each masked, in linear time and without overflowing the stack.
    expect(redactSecrets('a'.repeat(200_000), ['a', '//a@'])).to.equal(
      '[redacted]'.repeat(200_000),
    );
  });

  it('longestFirst hands back a list already in order as it is: the log hook allocates nothing', () => {
    const ordered = ['admin-PW9SECRET', 'key-1234', 'admin'];
    expect(longestFirst(ordered)).to.equal(ordered);
    const unordered = ['admin', 'admin-PW9SECRET'];
    expect(longestFirst(unordered)).to.deep.equal(['admin-PW9SECRET', 'admin']);
    expect(unordered).to.deep.equal(['admin', 'admin-PW9SECRET']); // the caller's list untouched
  });

  it('cuts an excerpt after redacting, keeping a marker the cut would split whole', () => {
    const text = `${'y'.repeat(195)}emkey-0123456789 and more`;
    expect(redactedExcerpt(text, ['emkey-0123456789'], 200)).to.equal(
      `${'y'.repeat(195)}[redacted]`,
    );
  });

  it("takes a URL's password and user:password, its user name only where it is userinfo", () => {
    const secrets = urlSecrets('https://al:PW%2FSECRET9@collector.example:4318');
    const text = 'total: al:PW/SECRET9, https://al:PW%2FSECRET9@collector.example, http://al@x/';
    expect(redactSecrets(text, secrets)).to.equal(
      'total: [redacted], https://[redacted]@collector.example, http://[redacted]@x/',
    );
    expect(urlSecrets('https://collector.example/v1')).to.deep.equal([]);
  });

  it("withoutCredentials writes a URL's userinfo `[redacted]`, as every other mask, not percent-encoded", () => {
    const cases: Array<[string, string]> = [
      ['http://al:PW%2FSECRET9@collector.example:4318', 'http://[redacted]@collector.example:4318'],
      [
        'https://al@collector.example/v1/metrics?a=1',
        'https://[redacted]@collector.example/v1/metrics?a=1',
      ],
      ['https://:PW-SECRET9@collector.example/', 'https://[redacted]@collector.example/'],
      ['https://collector.example:4318', 'https://collector.example:4318'],
    ];
    for (const [url, shown] of cases) expect(withoutCredentials(url), url).to.equal(shown);
  });

  it('withoutCredentials masks each secret-named query and fragment value, keeping the names', () => {
    const cases: Array<[string, string]> = [
      [
        'http://collector:4318/?api_key=SECRET1&tenant=t-2#frag=3&access_token=SECRET3',
        'http://collector:4318/?api_key=[redacted]&tenant=t-2#frag=3&access_token=[redacted]',
      ],
      // A part without a name says nothing of being a credential: shown, as a tenant is.
      ['http://al:PW@collector/v1?wsdl', 'http://[redacted]@collector/v1?wsdl'],
      ['https://collector.example/v1?', 'https://collector.example/v1?'],
    ];
    for (const [url, shown] of cases) expect(withoutCredentials(url), url).to.equal(shown);
  });

  it('maskUrlText masks the query and fragment of text that does not parse as a URL too', () => {
    expect(maskUrlText('http://bob:PW@collector:99999/?key=SECRET5#sig=SECRET6')).to.equal(
      'http://[redacted]@collector:99999/?key=[redacted]#sig=[redacted]',
    );
    expect(maskUrlText('collector:4318/?key=SECRET7')).to.equal('collector:4318/?key=[redacted]');
    expect(maskUrlText('http://collector:4318')).to.equal('http://collector:4318');
  });

  it("takes a URL's secret-named query and fragment values, wherever they are, for free text", () => {
    const url = 'http://collector:4318/v1?api_key=SECRET-0123%2B9&v=1#session=SECRET-frag';
    const secrets = urlSecrets(url);
    const text = `refused ${url}: bad key SECRET-0123+9, v=1, SECRET-0123%2B9, SECRET-frag`;
    expect(redactSecrets(text, secrets)).to.equal(
      'refused http://collector:4318/v1?api_key=[redacted]&v=1#session=[redacted]: bad key [redacted], v=1, [redacted], [redacted]',
    );
  });

  it("takes the Basic credentials Node's http sends for a URL's user and password", () => {
    // A collector that refuses a push may echo the Authorization header it was sent.
    const basic = Buffer.from('al:PW/SECRET9').toString('base64');
    const secrets = urlSecrets('https://al:PW%2FSECRET9@collector.example:4318');
    expect(redactSecrets(`refused Basic ${basic}`, secrets)).to.equal('refused Basic [redacted]');
  });

  it('stderrLogger masks its secrets in the message and, escaped or not, in the fields', () => {
    const lines: string[] = [];
    const secret = 'tok"en\\-SECRET';
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn({ detail: `sent ${secret}` }, `refused ${secret} (HTTP 401)`);
    expect(lines).to.deep.equal([
      'carbonscope: warning: refused [redacted] (HTTP 401) {"detail":"sent [redacted]"}\n',
    ]);
  });

  // A collector's reason phrase (`HTTP/1.1 400 Bad \x1b[2J`) reached the CLI's stderr as it was:
  // whoever answered a push could clear the user's terminal, or forge lines with `\r\n`.
  it('stderrLogger writes the control characters of a message or a field as escapes, one line', () => {
    const lines: string[] = [];
    const logger = stderrLogger({
      fields: true,
      secrets: ['k\x1bSECRET'],
      write: (l) => lines.push(l),
    });
    logger.error(
      { body: 'a\x7f\u009bb' },
      'could not push: Bad \x1b[2J\x07\r\nk\x1bSECRET (HTTP 400)',
    );
    expect(lines).to.deep.equal([
      'carbonscope: error: could not push: Bad \\u001b[2J\\u0007\\r\\n[redacted] (HTTP 400) {"body":"a\\u007f\\u009bb"}\n',
    ]);
  });

  it('stderrLogger masks a secret an upstream echoed in JSON that another JSON error embeds', () => {
    // The upstream escapes the key once, the gateway's error twice, the logged field thrice.
    const lines: string[] = [];
    const secret = 'ab"c\\d-SECRET';
    const upstream = JSON.stringify({ message: `bad key ${secret}` });
    const gateway = JSON.stringify({ error: upstream, status: 401 });
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn({ body: gateway }, `refused: ${gateway}`);
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.include('d-SECRET');
    expect(lines[0].match(/\[redacted\]/g)).to.have.length(2);
  });

  it('stderrLogger masks a secret percent-encoded, as a query string or a form carries it', () => {
    const lines: string[] = [];
    const secret = 'k3y/AB+c9==';
    const logger = stderrLogger({ secrets: [secret], write: (l) => lines.push(l) });
    logger.warn(`GET /v3/latest?auth-token=${encodeURIComponent(secret)} refused`);
    expect(lines).to.deep.equal([
      'carbonscope: warning: GET /v3/latest?auth-token=[redacted] refused\n',
    ]);
  });

  it('stderrLogger masks a secret an upstream echoes with lowercase hex escapes (%2f)', () => {
    // RFC 3986 makes the escapes' case free: an upstream may echo the key it was sent as `%2f`.
    const lines: string[] = [];
    const secret = 'k3y/AB+c9==';
    const lower = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    expect(lower).to.equal('k3y%2fAB%2bc9%3d%3d');
    const logger = stderrLogger({ secrets: [secret], write: (l) => lines.push(l) });
    logger.warn(`upstream refused auth-token=${lower}`);
    logger.warn(`in JSON: ${JSON.stringify({ token: lower })}`);
    expect(lines).to.deep.equal([
      'carbonscope: warning: upstream refused auth-token=[redacted]\n',
      'carbonscope: warning: in JSON: {"token":"[redacted]"}\n',
    ]);
  });

  it('stderrLogger masks a secret whose hex escapes mix cases (%2f and %2F in one text)', () => {
    const lines: string[] = [];
    const secret = 'k3y/AB+c9==';
    const mixed = 'k3y%2fAB%2Bc9%3d%3D';
    expect(decodeURIComponent(mixed)).to.equal(secret);
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn(`upstream refused auth-token=${mixed}`);
    logger.warn({ body: JSON.stringify({ token: mixed }) }, 'in JSON');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.equal('carbonscope: warning: upstream refused auth-token=[redacted]\n');
    expect(lines[1]).not.to.include('c9%3');
    expect(lines[1]).to.include('[redacted]');
  });

  it('stderrLogger masks a secret written with JSON \\u escapes, for some characters or all', () => {
    const lines: string[] = [];
    const secret = 'clé-SECRET-ü';
    // As a serializer that keeps its output ASCII writes it (Python's json.dumps), in either case.
    const nonAscii = 'cl\\u00e9-SECRET-\\u00FC';
    // As one that escapes every character.
    const all = [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(JSON.parse(`"${nonAscii}"`)).to.equal(secret);
    expect(JSON.parse(`"${all.join('')}"`)).to.equal(secret);
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn(`upstream said {"key":"${nonAscii}"}`);
    logger.warn(`upstream said {"key":"${all.join('')}"}`);
    // The field is escaped again in the line: `\\u00e9`.
    logger.warn({ body: `{"key":"${nonAscii}"}` }, 'refused');
    expect(lines.slice(0, 2)).to.deep.equal([
      'carbonscope: warning: upstream said {"key":"[redacted]"}\n',
      'carbonscope: warning: upstream said {"key":"[redacted]"}\n',
    ]);
    expect(lines[2]).not.to.include('SECRET');
    expect(lines[2]).to.include('[redacted]');
  });

  it("stderrLogger masks a secret as a form encoder writes it, `!'()*~` escaped too", () => {
    // encodeURIComponent leaves them; URLSearchParams, Python's quote_plus, Java's URLEncoder and
    // Go's QueryEscape escape some or all of them, in either case.
    const lines: string[] = [];
    const secret = "Pa(ss) w0rd!~'*";
    const form = new URLSearchParams({ key: secret }).toString();
    expect(form).to.equal('key=Pa%28ss%29+w0rd%21%7E%27*');
    const quoted = encodeURIComponent(secret).replace(
      /[!'()*~]/g,
      (c) => `%${c.charCodeAt(0).toString(16)}`,
    );
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn(`sent ${form}`);
    logger.warn(`sent key=${quoted}`);
    logger.warn({ body: `key=${quoted}` }, 'refused');
    expect(lines).to.deep.equal([
      'carbonscope: warning: sent key=[redacted]\n',
      'carbonscope: warning: sent key=[redacted]\n',
      'carbonscope: warning: refused {"body":"key=[redacted]"}\n',
    ]);
  });

  it("stderrLogger masks a secret whose `/` a JSON writer escapes (`\\/`, PHP's json_encode)", () => {
    const lines: string[] = [];
    const secret = 'k3y/AB+c9==';
    const logger = stderrLogger({ fields: true, secrets: [secret], write: (l) => lines.push(l) });
    logger.warn('upstream said {"key":"k3y\\/AB+c9=="}');
    // The field is escaped again in the line: `k3y\\\\/AB`.
    logger.warn({ body: '{"key":"k3y\\/AB+c9=="}' }, 'refused');
    expect(lines[0]).to.equal('carbonscope: warning: upstream said {"key":"[redacted]"}\n');
    expect(lines[1]).not.to.include('AB+c9');
    expect(lines[1]).to.include('[redacted]');
  });

  describe('a line of many backslashes', () => {
    afterEach(stopOffThread);

    it('reads a line of many backslashes and an escape in linear time (100 K took seconds)', async () => {
      // 1 M: tens of ms read in linear time, minutes in quadratic, past mocha's timeout (off the
      // test's thread, so that the timeout can end it).
      for (const line of [`${'\\'.repeat(1_000_000)}x \\u0041`, `${'\\'.repeat(1_000_000)}x %2f`]) {
        const redacted = await offThread(
          new URL('../../src/log.js', import.meta.url),
          (log: typeof import('../../src/log.js'), text: string) =>
            log.redactSecrets(text, log.redactionList(['k3y/AB+c9=='])),
          line,
        );
        expect(redacted === line, 'the line kept as it was').to.equal(true);
      }
    });
  });

  it('leaves a line with escapes but no secret as it was', () => {
    const lines: string[] = [];
    const logger = stderrLogger({ secrets: ['k3y/AB+c9=='], write: (l) => lines.push(l) });
    const text = 'GET /a%2fb?q=%2F \\u00e9 \\\\u0041';
    logger.warn(text);
    expect(lines).to.deep.equal([`carbonscope: warning: ${text}\n`]);
  });

  it('redactionList adds a form only where it differs, none per case of an escape', () => {
    // Letters, digits and `-_.~`: one form, so a line costs what it did.
    expect(redactionList(['Key-0123456789_abc.~'])).to.deep.equal(['Key-0123456789_abc.~']);
    // `%2f` and mixes of cases are read canonical (uppercase) by redactSecrets: no form of theirs.
    expect(redactionList(['a/b c'])).to.have.members(['a/b c', 'a%2Fb%20c', 'a%2Fb+c']);
    // A secret that holds an escape itself is also listed as a canonical line reads it.
    expect(redactionList(['x%2fy\\u00e9'])).to.include.members(['x%2fy\\u00e9', 'x%2Fyé']);
  });

  it("takes the OTLP variables' endpoint passwords and header tokens, not short header values", () => {
    const secrets = otlpSecretsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://al:PWSECRET9@collector.example',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20tok-0123456789,x-scope-orgid=1',
    });
    const text =
      'total 1: https://al:PWSECRET9@collector.example, tok-0123456789, Bearer%20tok-0123456789';
    expect(redactSecrets(text, longestFirst(secrets))).to.equal(
      'total 1: https://[redacted]@collector.example, [redacted], [redacted]',
    );
  });

  it('takes a header token after a tab, as the SDK sends it, and not only after a space', () => {
    for (const headers of [
      'authorization=Bearer\ttok-0123456789',
      'authorization=Bearer%09tok-0123456789',
    ]) {
      const secrets = otlpSecretsOf({ OTEL_EXPORTER_OTLP_HEADERS: headers });
      const text = 'refused: invalid token tok-0123456789';
      expect(redactSecrets(text, redactionList(secrets)), headers).to.equal(
        'refused: invalid token [redacted]',
      );
    }
  });

  it('takes a header value as the SDK sends it: decoded, without what follows a `;`', () => {
    // The SDK reads OTEL_EXPORTER_OTLP_HEADERS as baggage: `;` starts metadata it does not send.
    const secrets = otlpSecretsOf({ OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=tok-0123456789;v=1' });
    const text = 'refused x-api-key tok-0123456789';
    expect(redactSecrets(text, redactionList(secrets))).to.equal('refused x-api-key [redacted]');
  });

  it('masks a header value with a space whole where a line writes it form-encoded (`+`)', () => {
    for (const headers of ['x-api-key=abcd efghijkl', 'x-api-key=abcd%20efghijkl']) {
      const secrets = redactionList(otlpSecretsOf({ OTEL_EXPORTER_OTLP_HEADERS: headers }));
      for (const written of ['abcd efghijkl', 'abcd+efghijkl', 'abcd%20efghijkl']) {
        expect(redactSecrets(`sent key=${written}`, secrets), written).to.equal(
          'sent key=[redacted]',
        );
      }
    }
  });
});

describe('CARBONSCOPE_LOG_LEVEL', () => {
  const saved = process.env.CARBONSCOPE_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.CARBONSCOPE_LOG_LEVEL;
    else process.env.CARBONSCOPE_LOG_LEVEL = saved;
  });

  // A typo ("verbose", "warning") was ignored without a word: the user saw no more lines and
  // could not tell the setting was not read.
  it('names a value it does not know in one warning, once, and logs at warn', () => {
    process.env.CARBONSCOPE_LOG_LEVEL = 'verbose';
    const lines: string[] = [];
    const logger = stderrLogger({ write: (l) => lines.push(l) });
    stderrLogger({ write: (l) => lines.push(l) });
    logger.info('not shown');
    logger.warn('shown');
    expect(lines).to.deep.equal([
      'carbonscope: warning: CARBONSCOPE_LOG_LEVEL: expected debug, info, warn, error or silent (got "verbose"); warn is used\n',
      'carbonscope: warning: shown\n',
    ]);
  });

  // A value pasted whole was echoed whole: one warning line of 100 kB.
  it('quotes a long unknown value cut short', () => {
    process.env.CARBONSCOPE_LOG_LEVEL = `${'v'.repeat(100_000)}-long`;
    const lines: string[] = [];
    stderrLogger({ write: (l) => lines.push(l) });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^carbonscope: warning: CARBONSCOPE_LOG_LEVEL: .{10,250}…"\); warn is used\n$/,
    );
  });

  it('takes a known level in any case, with no word', () => {
    process.env.CARBONSCOPE_LOG_LEVEL = ' Info ';
    const lines: string[] = [];
    stderrLogger({ write: (l) => lines.push(l) }).info('shown');
    expect(lines).to.deep.equal(['carbonscope: shown\n']);
  });

  // `in` reads the prototype too: `constructor` was a level, whose rank (a function) no level
  // passed below, so every debug line was written, and the typo was not told.
  it('takes no name of an object property for a level', () => {
    for (const value of ['constructor', 'toString', '__proto__']) {
      expect(logLevelFrom(value), value).to.equal('warn');
      process.env.CARBONSCOPE_LOG_LEVEL = value;
      const lines: string[] = [];
      const logger = stderrLogger({ write: (l) => lines.push(l) });
      logger.debug('not shown');
      logger.info('not shown');
      expect(lines, value).to.deep.equal([
        `carbonscope: warning: CARBONSCOPE_LOG_LEVEL: expected debug, info, warn, error or silent (got "${value}"); warn is used\n`,
      ]);
    }
  });
});

describe('redaction against many secrets', () => {
  // A command line (`carbonscope run -- curl URL`) or a setting of n characters may make n/20
  // secrets, each then looked for in a line that quotes it: n² work, 9 s for 160 KB. At 400 KB
  // that is about a minute, and in one pass a few seconds: the timeout tells them apart, with no
  // clock read here that a loaded machine would fail.
  it('masks a line that quotes the URL its thousands of secrets came from in linear time', function () {
    this.timeout(30_000);
    const nested = Array.from({ length: 20_000 }, (_, i) => `//u${i}:p${i}x@h/`);
    const url = `https://c/?n=${nested.join('&n=')}`;
    const masked = redactSecrets(`run: curl ${url} failed`, redactionList(urlSecrets(url)));
    expect(masked).to.not.match(/u\d+:p\d+x/);
    expect(masked).to.contain('//[redacted]@h/&n=//[redacted]@h/');
  });

  it('masks with many secrets as with a few: overlaps, user names, escapes', () => {
    const few = ['SECRET-ONE', 'ET-ONE-AND-TWO', '//alice@', 'pa/ss w0rd'];
    const filler = Array.from({ length: 400 }, (_, i) => `unrelated-${i}-value`);
    const text =
      'SECRET-ONE-AND-TWO, http://alice@host/, pa%2Fss+w0rd, pa%2fss%20w0rd, "pa/ss w0rd"';
    const withFew = redactSecrets(text, redactionList(few));
    expect(withFew).to.not.match(/SECRET|ET-ONE|alice|w0rd/);
    expect(redactSecrets(text, redactionList([...few, ...filler]))).to.equal(withFew);
    expect(redactSecrets('unrelated-7-value.', redactionList([...few, ...filler]))).to.equal(
      '[redacted].',
    );
  });

  // The automaton is written by hand: checked against the plainest reading of what it must do,
  // every occurrence of every secret masked (a URL user name's `//` and delimiter kept), on
  // random secrets and texts of a few characters, `/`, `@`, `:`, `é` and a surrogate pair among
  // them, so that overlaps, prefixes and user names meet often.
  it('masks with many secrets exactly every occurrence of every secret', () => {
    const chars = ['a', 'b', '/', '@', ':', 'é', '\u{1F600}'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const word = (most: number) =>
      Array.from({ length: 1 + random(most) }, () => chars[random(chars.length)]).join('');
    const filler = Array.from({ length: 300 }, (_, i) => `Q${i}Q`);
    for (let round = 0; round < 1000; round++) {
      const user = () => `//${word(3)}${random(2) ? '@' : ':'}`;
      // A user name inside a longer secret: found only through the automaton's fail links.
      const kinds = [user, () => word(4), () => `${word(2)}${user()}${word(2)}`];
      const secrets = Array.from({ length: 1 + random(5) }, () => kinds[random(kinds.length)]());
      // Secrets, their beginnings and other text: a text of random characters holds few.
      const pieces = [() => word(3), () => secrets[random(secrets.length)]];
      pieces.push(() => {
        const secret = pieces[1]();
        return secret.slice(0, 1 + random(secret.length));
      });
      const text = Array.from({ length: 1 + random(8) }, () => pieces[random(3)]()).join('');
      expect(
        redactSecrets(text, [...secrets, ...filler]),
        JSON.stringify({ secrets, text }),
      ).to.equal(everyOccurrenceMasked(text, secrets));
    }
  });
});

function everyOccurrenceMasked(text: string, secrets: string[]): string {
  const spans: { start: number; end: number }[] = [];
  for (const secret of secrets) {
    const [head, tail] = /^\/\/.+[@:]$/s.test(secret) ? [2, 1] : [0, 0];
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      spans.push({ start: at + head, end: at + secret.length - tail });
    }
  }
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let shown = 0;
  for (const { start, end } of spans) {
    if (start >= shown) out += `${text.slice(shown, start)}[redacted]`;
    shown = Math.max(shown, end);
  }
  return out + text.slice(shown);
}
