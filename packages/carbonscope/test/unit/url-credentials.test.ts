import { expect } from 'chai';
import { z } from 'zod';
import { UsageError } from '../../src/cli/args.js';
import { failureOf } from '../../src/cli/failure.js';
import { redactionList, redactSecrets } from '../../src/log.js';
import { loadSettings, parseEnv, SettingsError } from '../../src/settings.js';
import {
  credentialsOf,
  maskUrlText,
  urlSecrets,
  withoutCredentials,
} from '../../src/url-credentials.js';
import { offThread, stopOffThread } from '../helpers/off-thread.js';

/** Free text masked against a URL's secrets, as a logger built with them masks a line. */
const maskedAgainst = (url: string, text: string) =>
  redactSecrets(text, redactionList(urlSecrets(url)));

/** `url` as each mask shows it, and `text` that quotes it, masked: none shows its SECRET. */
function expectSecretHidden(url: string, text: string): void {
  expect(withoutCredentials(url), url).to.not.contain('SECRET');
  expect(maskUrlText(url), url).to.not.contain('SECRET');
  expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
}

// Parameter names that say their value is a credential, as collectors, clouds and APIs use them.
const SECRET_NAMES = [
  'token',
  'TOKEN',
  'key',
  'api_key',
  'API_KEY',
  'apikey',
  'Api-Key',
  'access_token',
  'refresh_token',
  'auth',
  'password',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'code', // Azure Functions' function key (`?code=`), an OAuth authorization code
  'Code',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'x-amz-security-token',
  'X-Goog-Signature',
  'subscription-key',
  '%74oken', // `token`, its first letter percent-encoded
  'api%5Fkey',
];

describe('URL masking: what is no secret stays visible', () => {
  // A tenant, an API version, a fragment: what an operator needs to tell which endpoint it is.
  const plain =
    'https://llm.example/openai/deployments/gpt-4o?api-version=2024-06-01&tenant=acme-production#section-2';

  it('withoutCredentials keeps the values of parameters whose names say no secret, and the fragment', () => {
    expect(withoutCredentials(plain)).to.equal(plain);
    expect(withoutCredentials('http://al:PW@collector:4318/v1?tenant=acme-production')).to.equal(
      'http://[redacted]@collector:4318/v1?tenant=acme-production',
    );
  });

  it('maskUrlText keeps them in text that does not parse as a URL, and text that is no URL', () => {
    expect(maskUrlText('http://collector:99999/?tenant=acme-production#part')).to.equal(
      'http://collector:99999/?tenant=acme-production#part',
    );
    expect(maskUrlText('US#CAL')).to.equal('US#CAL');
  });

  it('takes no secret from a URL whose parameters say none: their values stay in free text', () => {
    expect(urlSecrets(plain)).to.deep.equal([]);
    const text = `calling ${plain}: 404 for api-version 2024-06-01 of acme-production`;
    expect(maskedAgainst(plain, text)).to.equal(text);
  });

  it('shows an invalid setting as written where it holds no URL secret (CARBON_ZONE=US#CAL)', () => {
    expect(() => loadSettings({ CARBON_ZONE: 'US#CAL' }))
      .to.throw(SettingsError)
      .with.property('message')
      .that.equals('CARBON_ZONE: expected a zone key such as DE, FR or US-CAL-CISO (got "US#CAL")');
  });

  it("keeps --help readable when the command's own URL has ordinary query values", () => {
    // Masked everywhere, the command's `q=processes` took the word out of the help text.
    const argv = ['--bogus', '--', 'curl', 'https://shop.example/search?q=processes'];
    const { text } = failureOf(new UsageError('unknown option --bogus'), 'run', argv, {});
    expect(text).to.not.contain('[redacted]');
    expect(text).to.contain('all its child processes');
  });
});

describe('URL masking: every secret stays masked', () => {
  const value = 'SECRET-VALUE-0123';

  it('withoutCredentials masks the value of each secret-named parameter, in any case, encoded too', () => {
    for (const name of SECRET_NAMES) {
      for (const url of [
        `http://collector:4318/v1?tenant=t1&${name}=${value}`,
        `http://collector:4318/v1?${name}=${value}&tenant=t1`,
        `http://al:PW-SECRET@collector:4318/v1?${name}=${value}`,
        `http://collector:4318/v1#${name}=${value}`,
        `http://collector:4318/v1?${name}=ab`, // short: a credential still, where it is named
      ]) {
        const shown = withoutCredentials(url);
        expect(shown, url).to.not.match(/SECRET|=ab\b/);
        expect(shown, url).to.contain(`${name}=[redacted]`);
      }
    }
  });

  it('maskUrlText masks them in text that does not parse as a URL', () => {
    for (const name of SECRET_NAMES) {
      for (const text of [
        `http://collector:99999/?${name}=${value}`,
        `collector:4318/?a=1&${name}=${value}#x`,
        `ftp://bob:PW-SECRET@collector/?${name}=${value}`,
      ]) {
        const shown = maskUrlText(text);
        expect(shown, text).to.not.contain('SECRET');
        expect(shown, text).to.contain(`${name}=[redacted]`);
      }
    }
  });

  it('takes each secret value for free text: written, decoded, and a short one with its name', () => {
    for (const name of SECRET_NAMES) {
      const url = `http://collector:4318/v1?v=1&${name}=${encodeURIComponent('SECRET/0123+x')}`;
      const text = `refused ${url}: key SECRET/0123+x (SECRET%2F0123%2Bx), v=1`;
      const masked = maskedAgainst(url, text);
      expect(masked, name).to.not.contain('SECRET');
      expect(masked, name).to.contain('v=1');
      const short = `http://collector:4318/v1?${name}=ab1`;
      expect(maskedAgainst(short, `refused ${short}`), name).to.not.contain('ab1');
    }
  });

  it('masks a secret-named parameter after a `;`, which some servers take as a separator', () => {
    // Go before 1.17, Rack 2 and Python before 3.9.2 read `a=1;token=X` as two parameters.
    for (const name of ['token', 'sig', 'api_key']) {
      for (const url of [
        `http://collector:4318/v1?tenant=t1;${name}=${value}`,
        `http://collector:4318/v1?a=1&tenant=t1;${name}=${value};b=2`,
        `http://collector:4318/v1?sv=1&amp;${name}=${value}`, // an HTML-escaped `&`
        `http://collector:4318/v1#tenant=t1;${name}=${value}`,
      ]) {
        const shown = withoutCredentials(url);
        expect(shown, url).to.not.contain('SECRET');
        expect(shown, url).to.contain(`${name}=[redacted]`);
        expect(maskUrlText(url.replace('4318', '99999')), url).to.not.contain('SECRET');
        expect(maskedAgainst(url, `refused ${url} (${value})`), url).to.not.contain('SECRET');
      }
      const short = `http://collector:4318/v1?tenant=t1;${name}=ab1`;
      expect(maskedAgainst(short, `refused ${short}`), name).to.not.contain('ab1');
    }
    // The value of a secret parameter runs to the next `&`, `;` and all, for a server that reads it so.
    expect(withoutCredentials('http://c/?token=ab;cd1&tenant=t1')).to.equal(
      'http://c/?token=[redacted]&tenant=t1',
    );
    expect(withoutCredentials('http://c/?a=1;b=2&tenant=t1;x')).to.equal(
      'http://c/?a=1;b=2&tenant=t1;x',
    );
  });

  it('masks a password whose unescaped `#` or `?` the parser takes for a fragment or query', () => {
    // `https://admin:#pw@host/` parses as host `admin` and fragment `#pw@host/`, and digits
    // before the `#` as a port: no credentials to the parser, the writer's password all the same.
    for (const url of [
      'https://admin:#PW-SECRET@collector/',
      'https://admin:?PW-SECRET@collector:4318/v1',
      'https://admin:1234#PW-SECRET@collector/',
      'https://admin:1234?PW/SECRET@collector/',
      'https://admin:#pa/SECRET@collector/v1?tenant=t1',
    ]) {
      expect(withoutCredentials(url), url).to.not.contain('SECRET');
      const text = `refused ${url} (${new URL(url).href}/v1/metrics)`;
      expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
    }
    expect(withoutCredentials('https://admin:#PW-SECRET@collector/v1')).to.equal(
      'https://[redacted]@collector/v1',
    );
    // An `@` after the path's `/` is no userinfo's: it stays, and nothing is taken as a secret.
    const mail = 'https://collector.example/v1?tenant=acme&contact=ops@acme.example';
    expect(withoutCredentials(mail)).to.equal(mail);
    expect(urlSecrets(mail)).to.deep.equal([]);
  });

  it('masks such a password behind extra slashes or leading blanks, as the parser reads them', () => {
    // The parser skips any run of `/` and `\\` after `http:`, trims leading blanks and drops tabs:
    // these too call host `admin`, port 1234, the rest of the password left in its fragment or query.
    for (const url of [
      'http:///admin:1234#PW-SECRET@collector/',
      'https:////admin:#PW-SECRET@collector/v1',
      'http://\\admin:1234?PW-SECRET@collector/',
      ' http://admin:1234#PW-SECRET@collector/',
      'http:\t//admin:1234#PW-SECRET@collector/',
    ]) {
      expect(withoutCredentials(url), url).to.not.contain('SECRET');
      expect(credentialsOf(url), url).to.not.deep.equal([]);
      const text = `refused ${url} (${new URL(url).href}/v1/metrics)`;
      expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
    }
  });

  it('reads a parameter name as the parser does: a tab or line break in it is dropped', () => {
    // `to<TAB>ken=` is sent as `token=`: the parser removes ASCII tabs and newlines everywhere.
    for (const name of ['to\tken', 'api_\nkey', 's\r\nig']) {
      for (const url of [`http://collector:4318/v1?${name}=${value}`, `http://c/v1?${name}=ab1`]) {
        const shown = withoutCredentials(url);
        expect(shown, url).to.not.match(/SECRET|ab1/);
        expect(maskUrlText(url.replace('4318', '99999')), url).to.not.match(/SECRET|ab1/);
        expect(maskedAgainst(url, `refused ${url}`), url).to.not.match(/SECRET|ab1/);
      }
    }
  });

  it('takes a secret-named parameter of the fragment too', () => {
    const url = `http://collector:4318/v1#access_token=${value}`;
    expect(maskedAgainst(url, `refused ${url} (${value})`)).to.not.contain('SECRET');
  });

  it('never shows the value of an invalid setting whose name says it is a secret', () => {
    const schema = { LLM_API_KEY: z.string().regex(/^sk-/, 'expected a key starting sk-') };
    expect(() => parseEnv(schema, { LLM_API_KEY: 'SECRET-KEY-0123' }))
      .to.throw(SettingsError)
      .with.property('message')
      .that.equals('LLM_API_KEY: expected a key starting sk- (got "[redacted]")');
  });

  it('never prints a secret-named query value in a usage error, its --help or an invalid setting', () => {
    const otlp = `http://collector:4318/?tenant=t1&API_KEY=${value}`;
    const argv = ['--otlp', otlp, '--', 'curl', `https://x.example/?%74oken=${value}2`];
    const printed = [
      failureOf(new UsageError(`bad ${otlp}`), 'run', argv, {}).text,
      failureOf(new SettingsError('PUE', `got ${value} ${value}2`), 'run', argv, {}).text,
      failureOf(new Error(`request to ${otlp} failed`), 'run', ['-v', ...argv], {}).text,
    ];
    for (const text of printed) expect(text).to.not.contain('SECRET');
    expect(printed[0]).to.contain('Usage: carbonscope run');
  });
});

describe('URL masking: matrix parameters, form encoding and control characters', () => {
  const value = 'SECRET-VALUE-0123';

  it('masks a secret-named matrix parameter of the path (`/v1/metrics;token=...`)', () => {
    // Servlet containers and Spring read `;name=value` in a path segment as a parameter.
    for (const name of ['token', 'api_key', 'sig', 'jsessionid', '%74oken', 'to\tken']) {
      for (const url of [
        `http://collector:4318/v1/metrics;${name}=${value}`,
        `http://collector:4318/v1;${name}=${value}/metrics`,
        `http://al:PW-SECRET@collector:4318/v1/metrics;v=2;${name}=${value}?tenant=t1`,
        `http://collector:4318/v1/metrics;${name}=${value};v=2`,
      ]) {
        const shown = withoutCredentials(url);
        expect(shown, url).to.not.contain('SECRET');
        // The parser drops the tab of `to<TAB>ken` where it writes the URL anew (its userinfo masked).
        expect(shown, url).to.match(/;[^;/]+=\[redacted\]/);
        expect(maskUrlText(url.replace('4318', '99999')), url).to.not.contain('SECRET');
        const parsed = new URL(url).href;
        const text = `refused ${url} (${parsed}): ${value}`;
        expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
      }
      const short = `http://collector:4318/v1/metrics;${name}=ab1`;
      expect(maskedAgainst(short, `refused ${short}`), name).to.not.contain('ab1');
    }
  });

  it('keeps the path around a masked matrix parameter, and matrix parameters that say no secret', () => {
    expect(withoutCredentials('http://c:4318/v1;jsessionid=A1B2C3D4E5/metrics?tenant=t1')).to.equal(
      'http://c:4318/v1;jsessionid=[redacted]/metrics?tenant=t1',
    );
    const plain = 'http://c:4318/v1;v=2/metrics;format=proto?tenant=t1';
    expect(withoutCredentials(plain)).to.equal(plain);
    expect(maskUrlText(plain.replace('4318', '99999'))).to.equal(plain.replace('4318', '99999'));
    expect(urlSecrets(plain)).to.deep.equal([]);
  });

  it('masks a query value written with `+` or `%20` for a space whole, in each way it is written', () => {
    // A form decoder reads `+` as a space; URLSearchParams writes a space back as `+`.
    for (const url of [
      'http://collector:4318/v1?password=abc+def+ghi+jkl&tenant=t1',
      'http://collector:4318/v1?password=abc%20def%20ghi%20jkl&tenant=t1',
      'http://collector:4318/v1;password=abc%20def%20ghi%20jkl/metrics',
    ]) {
      expect(withoutCredentials(url), url).to.not.match(/abc|def|ghi|jkl/);
      for (const written of ['abc def ghi jkl', 'abc+def+ghi+jkl', 'abc%20def%20ghi%20jkl']) {
        const text = `refused: password ${written} (${JSON.stringify({ password: written })})`;
        const masked = maskedAgainst(url, text);
        expect(masked, `${url}: ${written}`).to.not.match(/abc|def|ghi|jkl/);
      }
    }
  });

  it('masks a password with a tab or a line break as written, which the parser drops', () => {
    // `http://user:pa<TAB>ss@host/` is sent as `user:pass`; a line that quotes the URL as
    // written (a setting's value, an argument) holds the tab, or `\t` where it is JSON.
    for (const control of ['\t', '\n', '\r\n']) {
      for (const url of [
        `http://user:PW-${control}SECRET@collector:4318/v1`,
        `http://us${control}er:PW-SECRET${control}9@collector:4318/v1`,
        `https://admin:#PW-${control}SECRET@collector/`,
        `https://admin:1234?PW-${control}SECRET@collector/`,
      ]) {
        expect(withoutCredentials(url), url).to.not.contain('SECRET');
        expect(maskUrlText(url), url).to.not.contain('SECRET');
        const text = `refused ${url} (${JSON.stringify(url)}, ${new URL(url).href})`;
        const masked = maskedAgainst(url, text);
        expect(masked, JSON.stringify(url)).to.not.contain('SECRET');
      }
    }
  });

  it('masks a password with another control character as written and as the parser escapes it', () => {
    const url = 'http://user:PW-\u0001SECRET@collector:4318/v1';
    const text = `refused ${url} (${JSON.stringify(url)}, ${new URL(url).href})`;
    expect(maskedAgainst(url, text)).to.not.contain('SECRET');
    expect(withoutCredentials(url)).to.equal('http://[redacted]@collector:4318/v1');
  });
});

describe('URL masking: text that is no URL with userinfo keeps its `@`', () => {
  it('shows an invalid setting with an `@` as written where it cannot be a URL (CARBON_ZONE=US@CAL)', () => {
    expect(() => loadSettings({ CARBON_ZONE: 'US@CAL' }))
      .to.throw(SettingsError)
      .with.property('message')
      .that.equals('CARBON_ZONE: expected a zone key such as DE, FR or US-CAL-CISO (got "US@CAL")');
    expect(maskUrlText('US@CAL')).to.equal('US@CAL');
  });

  it('still cuts what may be userinfo: a pair, a scheme, a port, a path or a domain after the `@`', () => {
    for (const [text, shown] of [
      ['bob:PW-SECRET@collector', '[redacted]@collector'],
      ['http://tok-SECRET@collector:99999/', 'http://[redacted]@collector:99999/'],
      ['tok-SECRET@collector:4318', '[redacted]@collector:4318'],
      ['tok-SECRET@collector/v1', '[redacted]@collector/v1'],
      ['tok-SECRET@collector.example', '[redacted]@collector.example'],
      ['pa/SECRET@collector', '[redacted]@collector'],
    ]) {
      expect(maskUrlText(text), text).to.equal(shown);
    }
  });

  it("still cuts a pair whose `:` (or `/`, `.`) is percent-encoded: the `@` may be a URL's", () => {
    // `admin%3AS3CRET` is `admin:S3CRET` to whoever decodes the text (copied from a query).
    for (const [text, shown] of [
      ['http%3A%2F%2Fadmin%3AS3CRET@localhost', '[redacted]@localhost'],
      ['admin%3aS3CRET@collector', '[redacted]@collector'],
    ]) {
      expect(maskUrlText(text), text).to.equal(shown);
    }
  });
});

describe('URL masking: long text', () => {
  afterEach(stopOffThread);

  it('masks text of many `//` and no `@` in linear time (a 100 KB value took seconds)', async () => {
    // 1 MB: tens of ms read in linear time, minutes in quadratic, past mocha's timeout (off the
    // test's thread, so that the timeout can end it).
    for (const text of ['/'.repeat(1_000_000), `http:${'//'.repeat(500_000)}x`]) {
      const [masked, shown] = await offThread(
        new URL('../../src/url-credentials.js', import.meta.url),
        (urls: typeof import('../../src/url-credentials.js'), t: string) => [
          urls.maskUrlText(t),
          urls.withoutCredentials(t),
        ],
        text,
      );
      expect(masked === text && shown === text, 'the text kept as it was').to.equal(true);
    }
  });

  it('keeps only a scheme before the cut userinfo, never a pair before a later `//`', () => {
    for (const [text, shown] of [
      // A `//` after the pair (a path's, a redirect's scheme) kept `bob:PW-SECRET@collector`.
      ['bob:PW-SECRET@collector/?next=http://u@x', '[redacted]@x'],
      ['bob:PW-SECRET@collector//v1@x', '[redacted]@x'],
      ['http://bob:PW-SECRET@collector//v1@x', 'http://[redacted]@x'],
      ['//bob:PW-SECRET@collector', '//[redacted]@collector'],
      ['x@y//z', '[redacted]@y//z'],
    ]) {
      expect(maskUrlText(text), text).to.equal(shown);
    }
  });
});

describe('URL masking: percent-encoded delimiters', () => {
  const value = 'SECRET-VALUE-0123';
  // `%3B` is `;` to a proxy that decodes the path before passing it on (nginx with a URI in
  // proxy_pass), `%3F` a `?` to Apache's mod_rewrite; in a query value they, `%26` and `%23`
  // are a nested URL's (`?next=https%3A%2F%2Fidp%2Fcb%3Ftoken%3D...`), called once decoded.
  const DELIMITERS = ['%3B', '%3b', '%26', '%3F', '%3f', '%23', '%253B', '%25253b', '%2526'];

  it('masks a secret-named parameter after a percent-encoded `;`, `&`, `?` or `#`, once or more', () => {
    for (const delimiter of DELIMITERS) {
      for (const url of [
        `http://collector:4318/${delimiter}token=${value}`,
        `http://collector:4318/v1${delimiter}api_key=${value}/metrics`,
        `http://collector:4318/v1${delimiter}token%3D${value}`,
        `http://collector:4318/v1${delimiter}%2574oken%253D${value}`,
        `http://collector:4318/v1?next=https%3A%2F%2Fidp.example%2Fcb${delimiter}sig%3D${value}&t=1`,
        `http://collector:4318/v1#x${delimiter}access_token=${value}`,
      ]) {
        expect(withoutCredentials(url), url).to.not.contain('SECRET');
        expect(maskUrlText(url.replace('4318', '99999')), url).to.not.contain('SECRET');
        const text = `refused ${url} (${new URL(url).href}): ${value}`;
        expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
      }
      const short = `http://collector:4318/v1${delimiter}token=ab1`;
      expect(maskedAgainst(short, `refused ${short}`), short).to.not.contain('ab1');
    }
  });

  it('masks a secret-named parameter of a URL in a query value, written with its own `?`', () => {
    const url = `http://collector:4318/login?next=https://idp.example/cb?token=${value}&tenant=t1`;
    expect(withoutCredentials(url)).to.equal(
      'http://collector:4318/login?next=https://idp.example/cb?token=[redacted]&tenant=t1',
    );
    expect(maskedAgainst(url, `refused ${url}: ${value}`)).to.not.contain('SECRET');
  });

  it("masks a secret-named parameter after a fragment's own `#` (a hash route's implicit grant)", () => {
    // An identity provider appends `#access_token=...` to a redirect URI with a hash route.
    for (const url of [
      `https://app.example/#/callback#access_token=${value}`,
      `http://collector:4318/v1#state=1#token=${value}&tenant=t1`,
    ]) {
      expectSecretHidden(url, `refused ${url}: ${value}`);
    }
    expect(withoutCredentials(`https://app.example/#/callback#access_token=${value}&x=1`)).to.equal(
      'https://app.example/#/callback#access_token=[redacted]&x=1',
    );
  });

  it('keeps what follows the value, and encoded delimiters whose names say no secret', () => {
    for (const [url, shown] of [
      [
        `http://c:4318/v1%3Btoken=${value}/metrics?tenant=t1`,
        'http://c:4318/v1%3Btoken=[redacted]/metrics?tenant=t1',
      ],
      [
        `http://c:4318/v1?next=https%3A%2F%2Fidp%2Fcb%3Ftoken%3D${value}&tenant=t1`,
        'http://c:4318/v1?next=https%3A%2F%2Fidp%2Fcb%3Ftoken%3D[redacted]&tenant=t1',
      ],
      [
        'http://c:4318/files/a%3Bb=c/report%3Fq=processes%26page=2?tenant=t1#x%23y=1',
        'http://c:4318/files/a%3Bb=c/report%3Fq=processes%26page=2?tenant=t1#x%23y=1',
      ],
    ]) {
      expect(withoutCredentials(url), url).to.equal(shown);
      expect(maskUrlText(url.replace('4318', '99999')), url).to.equal(
        shown.replace('4318', '99999'),
      );
    }
    expect(urlSecrets('http://c:4318/files/a%3Bb=c/report%3Fq=processes')).to.deep.equal([]);
  });
});

describe('URL masking: userinfo of a URL that does not parse', () => {
  const bad = [
    'http://al:PW-SECRET@collector:99999/v1', // a port out of range
    'http://al:PW-SECRET@[::1', // a broken IPv6 host
    'http://al:PW-SECRET@[::1]:4318x/v1',
    'https://al:PW@SECRET@collector:99999/', // an unescaped `@` in the password
    'http://al:PW-SECRET@collector:99999?tenant=t1',
    '//al:PW-SECRET@collector:99999/',
  ];

  it('takes the password of a URL the parser refuses, for free text that quotes it', () => {
    for (const url of bad) {
      expect(() => new URL(url), url).to.throw();
      expect(withoutCredentials(url), url).to.not.contain('SECRET');
      const password = url.includes('PW@') ? 'PW@SECRET' : 'PW-SECRET';
      const text = `spawn curl ${url} failed; auth al:${password}, ${JSON.stringify({ url })}`;
      expect(maskedAgainst(url, text), url).to.not.contain('SECRET');
    }
  });

  it('masks all of a password that holds a secret-named parameter, in free text', () => {
    // The token's value runs on past the password: masked first, it left the password's start.
    for (const url of [
      'http://al:s3cr3t-PW?token=ab@collector:99999/v1/metrics',
      'http://al:s3cr3t-PW#sig=abcdefgh1@collector:99999/x',
      'http://al:1234?token=ab@collector/v1/metrics',
    ]) {
      const text = `curl: (7) ${url} failed`;
      expect(maskedAgainst(url, text), url).to.not.match(/s3cr3t|1234/);
    }
  });

  it('keeps the words of a usage around a password of a letter or two, masked with its user', () => {
    // `carbonscope run --otlp http://u:p@[::1`: masked alone, `p` took every `p` of the usage.
    const url = 'http://u:p@[::1';
    expect(maskedAgainst(url, `Usage: carbonscope run --otlp ${url} (dTpw)`)).to.equal(
      'Usage: carbonscope run --otlp http://[redacted]@[::1 ([redacted])',
    );
    expect(maskedAgainst('http://u:pw@h/', 'pw pass http://u:pw@h/')).to.equal(
      'pw pass http://[redacted]@h/',
    );
    // A password is a secret by what it is: alone from 3 characters (MIN_MASKED_SECRET_LENGTH).
    expect(maskedAgainst('http://u:pas@h/', 'pas, u:pas')).to.equal('[redacted], [redacted]');
    expect(maskedAgainst('http://u:pa55wrd@h/', 'said pa55wrd')).to.equal('said [redacted]');
    // A secret parameter's value may be none (`session=7`): alone from 8 (MIN_MASKED_VALUE_LENGTH).
    expect(maskedAgainst('http://h/?token=acme-01', 'acme-01 token=acme-01')).to.equal(
      'acme-01 [redacted]',
    );
  });

  it("masks it in carbonscope run's failure, which quotes the command line", () => {
    for (const url of bad) {
      const argv = ['--', 'curl', url];
      const { text } = failureOf(new Error(`curl ${url}: exit 7`), 'run', ['-v', ...argv], {});
      expect(text, url).to.not.contain('SECRET');
    }
  });

  it('takes a parsed password with an unescaped `@`, written and as the parser escapes it', () => {
    const url = 'http://al:PW@SECRET@collector/v1';
    const text = `refused ${url} (${new URL(url).href}): PW@SECRET`;
    expect(maskedAgainst(url, text)).to.not.contain('SECRET');
    expect(withoutCredentials(url)).to.equal('http://[redacted]@collector/v1');
  });

  it('takes the secret-named parameters of a URL that does not parse', () => {
    for (const url of [
      `http://collector:99999/v1?token=SECRET-VALUE-0123`,
      `http://collector:99999/v1;sig=SECRET-VALUE-0123`,
      `http://collector:99999/v1%3Bsig=SECRET-VALUE-0123`,
    ]) {
      expect(maskedAgainst(url, `refused ${url}`), url).to.not.contain('SECRET');
    }
  });
});

describe('URL masking: an `@` in the query is no userinfo', () => {
  it('keeps an e-mail address in the query or fragment of a URL with no path', () => {
    // RFC 3986 ends the authority at the first `?` or `#`: `mail=a@b` is a query, not the
    // password `4318?mail=a` of a user `h`.
    for (const url of [
      'http://h:4318?mail=a@b',
      'http://collector:4318?tenant=t1&contact=ops@acme.example',
      'http://collector:4318#contact=ops@acme.example',
      'http://collector?a=x@y.example&b=z@w.example#c',
    ]) {
      expect(withoutCredentials(url), url).to.equal(url);
      expect(maskUrlText(url), url).to.equal(url);
      expect(urlSecrets(url), url).to.deep.equal([]);
      expect(credentialsOf(url), url).to.deep.equal([]);
      const unparsed = url.replace(/:4318|(?=\?)/, ':99999');
      expect(maskUrlText(unparsed), unparsed).to.equal(unparsed);
      expect(urlSecrets(unparsed), unparsed).to.deep.equal([]);
    }
  });

  it('still masks a password cut by its `?` or `#` where what follows the `@` is a host', () => {
    for (const url of [
      'https://admin:?pa=SECRET@collector:4318/v1',
      'https://admin:?pa=SECRET@collector', // no URL has an empty port before its query
      'https://admin:#pa=SECRET@collector.example',
      'https://admin:1234#pa=SECRET@collector/',
      'http://h:4318?next=http://u:SECRET@x.example',
      'http://h:4318?mail=a@b&next=http://u:SECRET@x',
    ]) {
      expectSecretHidden(url, `refused ${url} (${new URL(url).href})`);
    }
  });
  it('still masks a password cut by its `?` or `#` where what precedes it is no port', () => {
    // `admin:pa` is no host and port: the parser refuses it, and the `@` after the `?` or `#`
    // ends a password, whatever reads as an e-mail address after it.
    for (const url of [
      'https://admin:pa#x=SECRET@collector',
      'https://admin:pa?ss=SECRET@collector.example',
      'https://admin:pa?SECRET=1@collector',
      'http:admin:pa#x=SECRET@collector',
      'http://admin:pa?ss=SECRET@collector?tenant=t1&mail=ops@acme.example',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
    }
  });
});

describe('URL masking: userinfo cut inside the query', () => {
  it("masks the query's secret parameters after an `@` in it that ends the userinfo", () => {
    // maskUserinfo cuts to an `@` of the query (`next=http://a@b`): what follows it is the
    // query's all the same, with no `?` of its own left before it.
    for (const url of [
      'http://c:99999/v1?next=http://a@b&token=SECRET-VALUE-0123',
      'http://c/v1?next=http://a@b&token=SECRET-VALUE-0123',
      'http://u:?pw@c/v1?mail=a@b&token=SECRET-VALUE-0123',
      'http://h:4318?next=http://u:pw@x&api_key=SECRET-VALUE-0123#frag',
    ]) {
      expect(maskUrlText(url), url).to.not.contain('SECRET');
      expect(withoutCredentials(url), url).to.not.contain('SECRET');
    }
    expect(maskUrlText('http://c:99999/v1?next=http://a@b&token=SECRET&tenant=t1')).to.equal(
      'http://[redacted]@b&token=[redacted]&tenant=t1',
    );
  });
});

describe('URL masking: long adversarial text', () => {
  // Each completes in milliseconds; a quadratic path takes minutes over 100 K characters.
  const inputs = [
    '%3B'.repeat(33_000),
    `http://c/${'%3Btoken'.repeat(12_000)}`,
    `http://c/v1${'%25'.repeat(33_000)}3Bx`,
    `http://c/v1?a=${'%2526'.repeat(20_000)}`,
    `http://c/${'%3Ba%3D'.repeat(14_000)}`,
    `http://h:4318?${'a=b@c&'.repeat(16_000)}`,
    `http://h:4318?${'@'.repeat(100_000)}`,
    `http://${'a:'.repeat(50_000)}?@x`,
    `http://u:p@h:99999/${'x@'.repeat(50_000)}`,
    `http://u:p@[${'@?'.repeat(50_000)}`,
    `http://c/v1?next=${'//a@'.repeat(25_000)}`,
    `http://c/v1#${'%2F%2Fa%40'.repeat(10_000)}`,
    `http://c/v1?next=//${'&'.repeat(100_000)}`,
    `http://c/v1?next=//${'a&'.repeat(50_000)}@x`,
    `http://c/v1?next=//${'%2F'.repeat(33_000)}@x`,
    `http://c/${'h://a@'.repeat(16_000)}`,
    `http://c/r/${'//a:1?b'.repeat(14_000)}=`,
    `http://c/r//a:x?${'?#'.repeat(50_000)}@`,
    `http://c/?n=//a:x#${'&b'.repeat(50_000)}@`,
    `https://c/x${':@/'.repeat(33_000)}`,
    `http://c/?n=${'http:/'.repeat(16_000)}@`,
    `http://c/?n=${'ws:a'.repeat(25_000)}@`,
    `http://c/?n=//u:x${'/&?'.repeat(33_000)}@`,
  ];

  it('masks 100 K characters of encoded delimiters, `@` and `?` in linear time', () => {
    for (const text of inputs) {
      maskUrlText(text);
      withoutCredentials(text);
      redactSecrets(text, redactionList(urlSecrets(text)));
    }
  });
});

describe('URL masking: userinfo of a URL nested in the query or fragment', () => {
  // A redirect target (`?next=`, `#return=`) is a URL of its own: its password is one as well.
  const nested = [
    'https://app.example/cb?next=http://u:SECRET-PW@idp.example/',
    'https://app.example/cb?next=http%3A%2F%2Fu%3ASECRET-PW%40idp.example%2F&tenant=t1',
    'https://app.example/cb?next=http%253A%252F%252Fu%253ASECRET-PW%2540idp%252F',
    'https://app.example/cb#next=http://u:SECRET-PW@idp.example/',
    'https://app.example/#/cb#next=http%3A%2F%2Fu%3ASECRET-PW%40idp%2F',
    'https://app.example/cb?a=1&next=//u:SECRET-PW@idp.example/x?mail=ops@acme.example',
    'http://collector:99999/cb?next=http://u:SECRET-PW@idp.example/',
  ];

  it('masks the nested userinfo as shown, and its password in free text that quotes the URL', () => {
    for (const url of nested) {
      expectSecretHidden(url, `refused ${url}: SECRET-PW`);
    }
    expect(withoutCredentials(nested[0])).to.equal(
      'https://app.example/cb?next=http://[redacted]@idp.example/',
    );
    expect(withoutCredentials(nested[1])).to.equal(
      'https://app.example/cb?next=http%3A%2F%2F[redacted]%40idp.example%2F&tenant=t1',
    );
  });

  it('masks a short nested password with its user, as written and encoded', () => {
    const url = 'https://app.example/cb?next=http%3A%2F%2Fu%3APW%40idp%2F';
    expect(maskedAgainst(url, `refused ${url} (u:PW)`)).to.not.match(/u%3APW|u:PW/);
  });

  it('masks a nested password holding an escaped `/`, `?`, `#` or `\\`, which ends no authority', () => {
    // Escaped once more than the nested URL's `//`, such a character is the password's own
    // (`p%2Fw` in a raw URL, `p%252Fw` in one encoded as a query value): only a parser that
    // decoded it as often as the `//` reads it as a delimiter.
    for (const url of [
      'https://app.example/cb?next=http://u:SECRET%2FSECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET%3fSECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET%23SECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET%5CSECRET@idp.example/',
      'https://app.example/cb?next=http%3A%2F%2Fu%3ASECRET%252FSECRET%40idp.example%2F',
      'https://app.example/cb?next=http%3A%2F%2Fu%3ASECRET%2523SECRET%40idp.example%2F',
      'https://app.example/cb#next=http%253A%252F%252Fu%253ASECRET%25252FSECRET%2540idp%252F',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('idp');
    }
  });

  it('masks a nested password the outer parser reads with its tab or line break dropped', () => {
    // `http:/<TAB>/u:pw@idp/` goes out as `http://u:pw@idp/`: the URL as given is what is shown.
    for (const url of [
      'https://app.example/cb?next=http:/\t/u:SECRET-PW@idp.example/',
      'https://app.example/cb?next=http%3A%2F\n%2Fu%3ASECRET-PW%40idp.example%2F',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
    }
  });

  it("masks a nested password's raw `&`, which a userinfo may hold, where no parameter follows it", () => {
    // RFC 3986 lets a userinfo hold `&`: pasted unencoded, `RET@idp/` reads as a parameter of
    // its own, but one with no `=` before its `@` is the password's rest.
    for (const url of [
      'https://app.example/cb?next=http://u:SECRET&SECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET&&SECRET&x@idp.example/&tenant=t1',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('@idp.example/');
    }
    expect(withoutCredentials('https://app.example/cb?next=http://idp.example&cc=a@b.c')).to.equal(
      'https://app.example/cb?next=http://idp.example&cc=a@b.c',
    );
  });

  it('keeps e-mail addresses and `@` of nested paths, which are no userinfo', () => {
    for (const url of [
      'https://app.example/cb?to=a@b.c',
      'https://app.example/cb?next=https://idp.example/@team&to=ops@acme.example',
      'https://app.example/cb?next=https%3A%2F%2Fidp%2F%3Fto%3Da%40b.c',
      'https://app.example/cb?next=https://idp.example?to=a@b.c#x=//idp/@me',
      'https://app.example/cb?next=https://idp.example%3Fto%3Da%40b.c',
      'https://app.example/cb?next=https://idp.example%2F%40team',
    ]) {
      expect(withoutCredentials(url), url).to.equal(url);
      expect(urlSecrets(url), url).to.deep.equal([]);
    }
  });
});

describe('URL masking: a nested password with a raw `#` or `?`, and URLs nested in the path', () => {
  it("masks a nested password's raw `#` or `?`, which the outer parser takes for a delimiter", () => {
    // `?next=http://u:pa#ss@idp/`: the outer parser ends the query at the `#`, but the nested
    // authority `u:pa` can be no host and port, so the `#` is the password's, as the `@` says.
    for (const url of [
      'https://app.example/cb?next=http://u:SECRET#SECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET?SECRET@idp.example/&x=1',
      'https://app.example/cb?next=http://u:#SECRET@idp.example/',
      'https://app.example/cb#next=http://u:SECRET#SECRET@idp.example/',
      'https://app.example/cb?next=http%3A%2F%2Fu%3ASECRET%23SECRET%40idp.example%2F',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('https://app.example/cb').and.contain('idp');
    }
  });

  it('masks the userinfo of a URL nested in the path, raw, encoded or after a matrix `;`', () => {
    for (const url of [
      'https://app.example/cb;next=http://u:SECRET-PW@idp.example/',
      'https://app.example/redirect/http://u:SECRET-PW@idp.example/',
      'https://app.example/redirect/http:\\\\u:SECRET-PW@idp.example/',
      'https://app.example/redirect/http%3A%2F%2Fu%3ASECRET-PW%40idp.example%2F',
      'https://app.example/redirect//u:SECRET-PW@idp.example/?a=1',
      'https://app.example/r/http:/\t/u:SECRET-PW@idp.example/',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('https://app.example/').and.contain('idp');
    }
    expect(withoutCredentials('https://app.example/redirect/http://u:SECRET-PW@idp/x')).to.equal(
      'https://app.example/redirect/http://[redacted]@idp/x',
    );
  });

  it('keeps a path `//` with no scheme before it and no password (`/img//logo@2x.png`)', () => {
    for (const url of ['https://cdn.example/img//logo@2x.png', 'https://app.example/u/@alice']) {
      expect(withoutCredentials(url), url).to.equal(url);
      expect(urlSecrets(url), url).to.deep.equal([]);
    }
  });
});

describe('URL masking: maskUrlText keeps a host that holds no userinfo', () => {
  it("keeps the outer host of a URL whose only `@` is a nested URL's or its path's", () => {
    expect(maskUrlText('https://a.example/?next=http://u:p&w@idp/&x=1')).to.equal(
      'https://a.example/?next=http://[redacted]@idp/&x=1',
    );
    expect(maskUrlText('https://app.example/u/@alice')).to.equal('https://app.example/u/@alice');
    expect(maskUrlText('https://a.example/redirect/http://u:SECRET@idp/')).to.equal(
      'https://a.example/redirect/http://[redacted]@idp/',
    );
  });

  it('still cuts to the last `@` where the authority holds a `:` that may begin a password', () => {
    // `https://u:pa/ss@host/` is user `u`, password `pa/ss` to its writer.
    for (const text of [
      'https://u:pa/SECRET@host/',
      'https://u:12/SECRET@host/',
      'u:pa/SECRET@h',
    ]) {
      expect(maskUrlText(text), text).to.not.contain('SECRET');
    }
  });
});

describe('URL masking: nested URLs the parser reads without `//` or with a password it cannot end', () => {
  it('masks a nested URL of a special scheme written with one slash or none (`http:u:pw@idp`)', () => {
    // For http, https, ws, wss and ftp the parser skips any slashes after the scheme, none too:
    // `http:u:pw@idp/` is user `u`, password `pw`, host `idp`, and so is `http:／／u:pw@idp/`.
    for (const url of [
      'https://app.example/cb?next=http:u:SECRET-PW@idp.example/',
      'https://app.example/cb?next=HTTPS:/u:SECRET-PW@idp.example/',
      'https://app.example/cb?next=wss:\uff0f\uff0fu:SECRET-PW@idp.example/',
      'https://app.example/cb?next=http%3Au%3ASECRET-PW%40idp.example',
      'https://app.example/redirect/ftp:u:SECRET-PW@idp.example/',
      'https://app.example/cb?next=ht%09tp:u:SECRET-PW@idp.example/',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('https://app.example/').and.contain('idp');
    }
    // Not a special scheme: no authority, no userinfo.
    const opaque = 'https://app.example/cb?to=mailto:ops@acme.example&next=urn:a:b@c';
    expect(withoutCredentials(opaque)).to.equal(opaque);
  });

  it("masks a nested password's raw `/`, `\\` or `&` where what precedes it can be no port", () => {
    // `http://u:pa/ss@idp/` does not parse with `pa` as a port: the `/` is the password's.
    for (const url of [
      'https://app.example/cb?next=http://u:SECRET/SECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET\\SECRET@idp.example/',
      'https://app.example/cb?next=http://u:SECRET&x=SECRET@idp.example/',
      'https://app.example/redirect/http://u:SECRET/SECRET@idp.example/',
    ]) {
      expectSecretHidden(url, `refused ${url}`);
      expect(withoutCredentials(url), url).to.contain('https://app.example/').and.contain('idp');
    }
    // A port's digits and a path: the `@` is the nested path's.
    const team = 'https://app.example/cb?next=https://idp.example:8443/@team';
    expect(withoutCredentials(team)).to.equal(team);
  });
});

describe('URL masking: the Basic header a user name alone makes', () => {
  const basic = (auth: string) => Buffer.from(auth).toString('base64');

  it("masks a user name's escaped `:` as the password Node's http sends after it", () => {
    // Node's http writes `Authorization: Basic` of the user name and password decoded, joined by
    // a `:`: `u%3APW` goes out as user `u`, password `PW:`, which a refusing server may echo.
    const url = 'http://u%3ASECRET-PW@collector.example/';
    const line = `refused u:SECRET-PW (Basic ${basic('u:SECRET-PW:')})`;
    expect(maskedAgainst(url, line))
      .to.not.contain('SECRET')
      .and.not.contain(basic('u:SECRET-PW:'));
  });

  it('masks the Basic header of a user name with no password (a token as user name)', () => {
    const url = 'https://ghp_SECRETTOKEN@git.example/';
    const line = `refused: Basic ${basic('ghp_SECRETTOKEN:')}`;
    expect(maskedAgainst(url, line)).to.equal('refused: Basic [redacted]');
  });
});
