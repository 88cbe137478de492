/**
 * What a machine snapshot keeps of an error: its stable code and its message (both strings, so
 * that snapshots serialise and compare as plain data). The error itself rides along, hidden (not
 * enumerable: no JSON, no equality), so that whoever reports it later can hand on the original
 * with its class and fields (see originalError).
 */
export interface ErrorSummary {
  code: string;
  message: string;
}

export function describeError(error: unknown): ErrorSummary {
  let summary: ErrorSummary;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    summary = {
      code: typeof code === 'string' ? code : 'ERR_UNKNOWN',
      message: typeof message === 'string' ? message : JSON.stringify(error),
    };
  } else {
    summary = { code: 'ERR_UNKNOWN', message: String(error) };
  }
  Object.defineProperty(summary, 'error', { value: error, enumerable: false });
  return summary;
}

/** The error a summary was made from (undefined for one built by hand). */
export function originalError(summary: ErrorSummary): unknown {
  return (summary as { error?: unknown }).error;
}
