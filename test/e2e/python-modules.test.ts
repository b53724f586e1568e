/**
 * The python toolchain's C modules that stand on Debian's libraries, built statically into
 * the unikernel: _ssl and _hashlib (OpenSSL 3.0), _sqlite3 (SQLite), _bz2 (bzip2) and _lzma
 * (liblzma). One app (test/fixtures/modules-python) computes known answers with each, run
 * with `docker run --network none`; a missing module fails its import, and so the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { LoadedImages, runImage } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-python-modules-');
const images = new LoadedImages();
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

/** The fixture, plus a self-signed P-256 certificate for nabla.test and its key, made now. */
async function appWithCertificate(): Promise<string> {
  const app = path.join(work, 'modules-python');
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'modules-python'), app, { recursive: true });
  fs.mkdirSync(path.join(app, 'tls'));
  const made = await execa('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=nabla.test', '-addext', 'subjectAltName=DNS:nabla.test', '-days', '1',
    '-keyout', path.join(app, 'tls', 'key.pem'), '-out', path.join(app, 'tls', 'cert.pem'),
  ], { reject: false });
  expect(made.exitCode, made.stderr).toBe(0);
  return app;
}

describe('python C modules on Debian\'s libraries', () => {
  it('ssl, hashlib, sqlite3, bz2 and lzma compute known answers in the unikernel', async () => {
    await images.build(await appWithCertificate(), 'nabla-e2e/modules-python:1');
    const result = await runImage('nabla-e2e/modules-python:1');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = new Map(result.stdout.split('\n').map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]));

    expect(lines.get('built-in')).toBe('_bz2 _hashlib _lzma _sqlite3 _ssl');

    // OpenSSL: Debian's 3.0; TLS 1.3 between two SSLObjects, the client trusting only the
    // test's certificate and refusing it for another name; the CA bundle from ca-certificates
    // found through OpenSSL's default paths, with no SSL_CERT_FILE.
    expect(lines.get('openssl')).toMatch(/^OpenSSL 3\.0\.\d+ /);
    expect(lines.get('tls')).toBe('TLSv1.3 TLS_AES_256_GCM_SHA384 nabla.test pong: ping over TLS');
    expect(lines.get('tls-other-host')).toBe("Hostname mismatch, certificate is not valid for 'other.test'.");
    const [cafile, capath, cas] = (lines.get('ca-bundle') ?? '').split(' ');
    expect([cafile, capath]).toEqual(['/usr/lib/ssl/cert.pem', '/usr/lib/ssl/certs']);
    expect(Number(cas)).toBeGreaterThan(100);

    // hashlib through OpenSSL: PBKDF2-HMAC-SHA256's usual vector, RFC 7914's scrypt vector, FIPS 180-4's
    // SHA-512/256 of "abc", RIPEMD-160 of "abc" (in OpenSSL 3.0's default provider).
    expect(lines.get('hash-type')).toBe('_hashlib.HASH');
    expect(lines.get('pbkdf2')).toBe('632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3');
    expect(lines.get('scrypt')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
    expect(lines.get('sha512_256')).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    expect(lines.get('ripemd160')).toBe('8eb208f7e05d987a9b044a8e98c6b087f15a0bfc');

    // SQLite: the committed rows survive a rollback and a reopen; WAL mode works (its index in
    // memory, no mmap) and a second connection reads the new row; FTS5 and JSON in memory.
    expect(lines.get('sqlite-file')).toBe("(100, 5050, 50.5, 'row001', 'row100')");
    expect(lines.get('sqlite-wal')).toBe('wal 6050');
    expect(lines.get('sqlite-memory')).toBe("[('a nabla unikernel',)] 2");
    expect(lines.get('sqlite-version')).toMatch(/^3\.40\.\d+$/);

    // bz2 and lzma: both round trips give back the 728,890 bytes (sha256 known); the host's
    // xz file decompresses to its 64 lines.
    const data = 'd05f125708bbe69dd82f16c59b8940a4a5f29cd9e4e899b0f5044de27ae205a2';
    expect(lines.get('bz2')).toBe(`BZh9 True ${data}`);
    expect(lines.get('lzma')).toBe(`fd377a585a00 True ${data}`);
    expect(lines.get('xz-host')).toBe(
      'fd377a585a00 2423 5d6e2d891fa9520d1ddce07f3a8429a163ec60a245f1fccb5fd44e0d1e519f79 line 64, compressed by xz on the host',
    );
    expect(lines.size).toBe(17);
  });
});
