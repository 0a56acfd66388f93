import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A certificate and its key, as files. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A private PKI, as a production collector's often is: made fresh, one day long. */
export interface TestPki {
  /** The CA that signs the server's and the client's certificates. */
  ca: string;
  /** Another CA, that signed neither: a collector's CA mistaken for another. */
  otherCa: string;
  /** For 127.0.0.1 and localhost, signed by `ca`. */
  server: CertFiles;
  /** A client's, signed by `ca`: what a collector asking for mTLS takes. */
  client: CertFiles;
  /** For 127.0.0.1 and localhost too, but signed by `otherCa`. */
  otherServer: CertFiles;
}

/** Runs openssl with `args`; its absence is named, never a skip. */
export async function openssl(args: string[]): Promise<void> {
  try {
    await promisify(execFile)('openssl', args);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing ? 'missing openssl: the TLS tests make their certificates with it' : String(err),
    );
  }
}

async function selfSignedCa(dir: string, name: string): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl([
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
    ...['-keyout', files.key, '-out', files.cert, '-subj', `/CN=carbonscope test ${name}`],
  ]);
  return files;
}

async function signedBy(
  ca: CertFiles,
  dir: string,
  name: string,
  extensions: string,
): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl([
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', csr],
    ...['-subj', `/CN=${name}`],
  ]);
  await openssl([
    ...['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'],
    ...['-days', '1', '-out', files.cert, '-extfile', ext],
  ]);
  return files;
}

/** A CA, a server and a client certificate it signed, and another CA, written in `dir`. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const ca = await selfSignedCa(dir, 'ca');
  const other = await selfSignedCa(dir, 'other-ca');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  const server = await signedBy(ca, dir, 'server', serverExt);
  const otherServer = await signedBy(other, dir, 'other-server', serverExt);
  const client = await signedBy(ca, dir, 'client', 'extendedKeyUsage=clientAuth\n');
  return { ca: ca.cert, otherCa: other.cert, server, client, otherServer };
}
