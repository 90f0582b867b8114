// The status code a failed operation on a pair (a write, a read) means, for every place that hands
// one on: the gateway's OPC UA clients get it as the operation's result, a redundant-source node's
// Catch node as msg.error.code. Protocol-neutral: drivers put OPC UA status names on their errors
// (DriverError.statusCode; Modbus exceptions are mapped to them in lib/modbus).
import { DriverError } from './driver';
import { NoActiveServerError } from './pair';

/** The status code name of a failed operation (BadNoCommunication, BadNotWritable, BadTimeout...). */
export function statusOfError(err: unknown): string {
  if (err instanceof NoActiveServerError) return 'BadNoCommunication';
  if (err instanceof DriverError && err.statusCode) return err.statusCode;
  const statusCode = (err as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'string' && /^(Bad|Uncertain)/.test(statusCode)) return statusCode;
  const message = err instanceof Error ? err.message : String(err);
  // Status names the driver puts into its messages ("write to x refused: BadNotWritable").
  const named = /\b(Bad[A-Za-z]+)\b/.exec(message);
  if (named) return named[1];
  if (/not connected|no active|connection closed/i.test(message)) return 'BadNoCommunication';
  if (/timeout|no answer/i.test(message)) return 'BadTimeout';
  if (/is not (a|an) |an array is expected|not an integer/i.test(message)) return 'BadTypeMismatch';
  return 'BadCommunicationError';
}
