/** What a machine snapshot keeps of an error: its stable code and its message (both strings). */
export interface ErrorSummary {
  code: string;
  message: string;
}

export function describeError(error: unknown): ErrorSummary {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' ? code : 'ERR_UNKNOWN',
      message: typeof message === 'string' ? message : JSON.stringify(error),
    };
  }
  return { code: 'ERR_UNKNOWN', message: String(error) };
}
