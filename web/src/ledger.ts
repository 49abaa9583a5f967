// The event log's proofs (透明度), checked in the browser: the API calls for the public key, the
// signed checkpoints and a citizen's timeline proof, and the verifiers — RFC 9162 §2.1.3.2
// inclusion and §2.1.4.2 consistency with WebCrypto SHA-256, and the C2SP signed note's Ed25519
// signature with WebCrypto Ed25519. Nothing here trusts the server's word: every "已验证" is
// recomputed from the hashes and the signature.

import { request } from './api';
import type { components } from './generated/api-types';

type Schemas = components['schemas'];
export type LogKeyView = Schemas['KeyView'];
export type CheckpointView = Schemas['CheckpointView'];
export type CheckpointPage = Schemas['CheckpointPage'];
export type ConsistencyView = Schemas['ConsistencyView'];
export type TimelineProof = Schemas['TimelineProof'];

export const ledgerApi = {
  key: () => request<LogKeyView>('GET', '/api/v1/transparency/key'),
  checkpoints: (limit = 10) => request<CheckpointPage>('GET', `/api/v1/transparency/checkpoints?limit=${limit}`),
  consistency: (from: number, to: number) => request<ConsistencyView>('GET', `/api/v1/transparency/consistency?from=${from}&to=${to}`),
  timelineProof: (number: string, code: string) =>
    request<TimelineProof>('GET', `/api/v1/track/${encodeURIComponent(number)}/proof?code=${encodeURIComponent(code)}`),
};

type Bytes = Uint8Array<ArrayBuffer>;

export function fromB64(s: string): Bytes {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function concat(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function subtle(): SubtleCrypto {
  if (!globalThis.crypto?.subtle) throw new Error('WebCrypto is unavailable (the page needs HTTPS)');
  return globalThis.crypto.subtle;
}

async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(concat(new Uint8Array([1]), l, r));

/** RFC 9162 §2.1.3.2: leaf `index` of a tree of `size` leaves with `root`. */
export async function verifyInclusion(index: number, size: number, leaf: Bytes, path: Bytes[], root: Bytes): Promise<boolean> {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: the tree of `m` leaves (root `first`) is a prefix of the one of `n` (`second`). */
export async function verifyConsistency(m: number, n: number, first: Bytes, second: Bytes, proof: Bytes[]): Promise<boolean> {
  if (m > n) return false;
  if (m === n) return proof.length === 0 && equal(first, second);
  if (m === 0) return proof.length === 0 && equal(first, await sha256(new Uint8Array(0)));
  if (proof.length === 0) return false;
  const path = (m & (m - 1)) === 0 ? [first, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equal(fr, first) && equal(sr, second) && sn === 0;
}

/** What a checkpoint's signed note says, once its signature is verified. */
export interface NoteBody {
  origin: string;
  treeSize: number;
  root: Bytes;
}

/**
 * Verifies a C2SP signed note with the log's Ed25519 key (key name = origin, key ID =
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]) and parses its tlog-checkpoint text. Throws saying why.
 */
export async function openNote(note: string, origin: string, publicKeyB64: string): Promise<NoteBody> {
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new Error('not a signed note');
  const text = note.slice(0, cut + 1);
  const enc = new TextEncoder();
  const pub = fromB64(publicKeyB64);
  const id = (await sha256(concat(enc.encode(origin), new Uint8Array([0x0a, 0x01]), pub))).slice(0, 4);
  const key = await subtle().importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
  let verified = false;
  for (const line of note.slice(cut + 2).split('\n').filter((l) => l)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed signature line`);
    const blob = fromB64(m[2]);
    if (m[1] !== origin || blob.length !== 68 || !equal(blob.slice(0, 4), id)) continue;
    if (!(await subtle().verify({ name: 'Ed25519' }, key, blob.slice(4), enc.encode(text)))) throw new Error('the signature does not verify');
    verified = true;
  }
  if (!verified) throw new Error('no signature by the log’s key');
  const [o, size, root] = text.split('\n');
  if (o !== origin) throw new Error('another origin');
  return { origin: o, treeSize: Number(size), root: fromB64(root) };
}

/** The outcome of checking a citizen's timeline proof. */
export interface TimelineVerdict {
  ok: boolean;
  /** Events proven in the checkpoint. */
  proven: number;
  /** Events not yet in a checkpoint. */
  pending: number;
  /** Why it failed (English, for the page's detail line). */
  reason?: string;
}

/** Checks the checkpoint's signature and every event's inclusion proof against its root. */
export async function verifyTimeline(p: TimelineProof): Promise<TimelineVerdict> {
  const pending = p.events.filter((e) => !e.proof).length;
  if (!p.checkpoint) return { ok: false, proven: 0, pending, reason: 'no checkpoint yet' };
  try {
    const body = await openNote(p.checkpoint.note, p.key.origin, p.key.public_key);
    const root = fromB64(p.checkpoint.root_hash);
    if (body.treeSize !== p.checkpoint.tree_size || !equal(body.root, root)) return { ok: false, proven: 0, pending, reason: 'the signed note says another tree' };
    let proven = 0;
    for (const e of p.events) {
      if (!e.proof) continue;
      const ok = await verifyInclusion(e.pos, body.treeSize, fromB64(e.leaf_hash), e.proof.map(fromB64), body.root);
      if (!ok) return { ok: false, proven, pending, reason: `event ${e.seq} is not in the checkpoint` };
      proven += 1;
    }
    return { ok: true, proven, pending };
  } catch (err) {
    return { ok: false, proven: 0, pending, reason: err instanceof Error ? err.message : String(err) };
  }
}
