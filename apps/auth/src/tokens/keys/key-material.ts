import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

export type SigningAlgorithm = 'RS256' | 'ES256';

/** A signing key as storage keeps it (key `signing-keys`, see store/storage-schema.md). */
export interface StoredSigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** Private key as a JWK (RFC 7517). */
  readonly privateJwk: JsonWebKey;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  /**
   * Seconds since the epoch from which the key signs (staged rotation, docs/auth.md "Signing keys"). Absent in
   * rings written before staging existed, and for the first key: it signs from `createdAt`.
   */
  readonly activatesAt?: number;
}

/** When a stored key starts signing. */
export function activationOf(key: Pick<StoredSigningKey, 'createdAt' | 'activatesAt'>): number {
  return key.activatesAt ?? key.createdAt;
}

/** A key ready to sign and verify. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as /jwks publishes it. */
  readonly publicJwk: JWK;
  readonly createdAt: number;
  readonly activatesAt: number;
}

/** A fresh key pair: RSA 2048 for RS256, P-256 for ES256 (RFC 7518 §3.3, §3.4). */
export async function generateSigningKey(alg: SigningAlgorithm, now: number): Promise<StoredSigningKey> {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' });
  return { kid: await thumbprintOf(privateKey), alg, privateJwk, createdAt: now };
}

export async function fromStored(stored: StoredSigningKey): Promise<SigningKey> {
  const privateKey = createPrivateKey({ key: stored.privateJwk, format: 'jwk' });
  return withPublicParts(stored.kid, stored.alg, privateKey, stored.createdAt, activationOf(stored));
}

/**
 * The key configured in JWT_PRIVATE_KEY: a PKCS#8 (or PKCS#1 / SEC1) PEM, or the base64 of one (handy in
 * .env files). The algorithm follows from the key type; it must agree with JWT_ALGORITHM.
 */
export async function fromConfiguredPem(value: string, configuredAlg: SigningAlgorithm): Promise<SigningKey> {
  const text = value.trim();
  const pem = text.startsWith('-----BEGIN') ? text : Buffer.from(text, 'base64').toString('utf8');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch (error) {
    throw new Error('JWT_PRIVATE_KEY is not a readable private key PEM (or base64 of one)', { cause: error });
  }
  const alg = algorithmOf(privateKey);
  if (alg !== configuredAlg)
    throw new Error(
      `JWT_PRIVATE_KEY is a key for ${alg ?? 'neither RS256 nor ES256'}, but JWT_ALGORITHM=${configuredAlg}`,
    );
  return withPublicParts(await thumbprintOf(privateKey), alg, privateKey, 0, 0);
}

function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** RFC 7638 thumbprint of the public key: a kid that is stable and the same on every replica. */
function thumbprintOf(privateKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK);
}

function withPublicParts(
  kid: string,
  alg: SigningAlgorithm,
  privateKey: KeyObject,
  createdAt: number,
  activatesAt: number,
): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk, createdAt, activatesAt };
}
