// WebSocket close codes the mesh uses (4000-4999 is the range RFC 6455 leaves to applications),
// and the way back from a close code to an error with a stable code, so both ends report the same.
import { TesseraError, type ErrorCode } from '../../shared/errors.js';

const CLOSE_CODES = {
  MESH_AUTH_FAILED: 4001,
  MESH_PROTOCOL_MISMATCH: 4002,
  MESH_FRAME_INVALID: 4003,
  PEER_UNREACHABLE: 4004,
  MESH_DUPLICATE_LINK: 4005,
  MESH_STOPPED: 4006,
  MESH_HANDSHAKE_TIMEOUT: 4007,
} as const satisfies Partial<Record<ErrorCode, number>>;

type MeshCloseCode = keyof typeof CLOSE_CODES;

/** RFC 6455 caps a close reason at 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

export function closeCodeFor(error: TesseraError): number {
  return (CLOSE_CODES as Partial<Record<ErrorCode, number>>)[error.code] ?? 4000;
}

export function closeReasonFor(error: TesseraError): string {
  let reason = error.message;
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

/** The error a close code (sent by the other end, or by ws itself) stands for. */
export function errorFromClose(code: number, reason: string): TesseraError {
  const meshCode = (Object.keys(CLOSE_CODES) as MeshCloseCode[]).find((key) => CLOSE_CODES[key] === code);
  if (meshCode) return new TesseraError(meshCode, reason || `peer closed the link (${meshCode})`);
  if (code === 1009) return new TesseraError('MESH_FRAME_INVALID', 'frame over the size limit');
  if (code === 1002 || code === 1007) return new TesseraError('MESH_FRAME_INVALID', reason || 'WebSocket protocol error');
  if (code === 1000 || code === 1001) return new TesseraError('MESH_STOPPED', reason || 'peer closed the link');
  return new TesseraError('PEER_UNREACHABLE', `connection lost (${code}${reason ? `: ${reason}` : ''})`);
}
