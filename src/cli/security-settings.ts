// TLS and SASL settings, shared by `ekaf serve` and `ekaf produce`. TLS comes from options or
// the environment; SASL from the environment only, so that the password is not in the process
// list.
import { readFileSync } from 'node:fs';
import type { ProducerOptions } from '../config.js';
import { SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from '../security/sasl.js';
import { UsageError } from './exit-codes.js';
import { setting, type Values } from './settings.js';

/** --tls / --tls-ca (KAFKA_TLS, KAFKA_TLS_CA): whether to use TLS, and the CA file to trust. */
export interface TlsSetting {
  enabled: boolean;
  caFile?: string;
}

export function tlsSetting(values: Values): TlsSetting {
  const caFile = setting(values, 'tls-ca', 'KAFKA_TLS_CA')?.value;
  const flag = values.tls === true || /^(1|true|yes)$/i.test(process.env.KAFKA_TLS?.trim() ?? '');
  return { enabled: flag || caFile !== undefined, ...(caFile === undefined ? {} : { caFile }) };
}

/** SASL from KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD; all three or none. */
export function saslFromEnv(): SaslCredentials | undefined {
  const read = (name: string): string | undefined => {
    const value = process.env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const mechanism = read('KAFKA_SASL_MECHANISM');
  const username = read('KAFKA_SASL_USERNAME');
  const password = read('KAFKA_SASL_PASSWORD');
  if (mechanism === undefined && username === undefined && password === undefined) return undefined;
  if (mechanism === undefined || username === undefined || password === undefined) {
    throw new UsageError('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD go together');
  }
  const upper = mechanism.toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(upper)) {
    throw new UsageError(
      `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')} (got "${mechanism}")`,
    );
  }
  return { mechanism: upper as SaslMechanism, username, password };
}

/**
 * The producer's `tls` and `sasl` options. It reads the CA file: each worker of `ekaf serve
 * --workers N` calls it for itself, since only the file's name travels to workers.
 */
export function securityOptions(tls: TlsSetting): Pick<ProducerOptions, 'tls' | 'sasl'> {
  const options: Pick<ProducerOptions, 'tls' | 'sasl'> = {};
  if (tls.enabled) {
    let ca: string | undefined;
    if (tls.caFile !== undefined) {
      try {
        ca = readFileSync(tls.caFile, 'utf8');
      } catch (error) {
        throw new UsageError(`--tls-ca: cannot read ${tls.caFile}: ${(error as Error).message}`);
      }
    }
    options.tls = ca === undefined ? true : { ca };
  }
  const sasl = saslFromEnv();
  if (sasl !== undefined) options.sasl = sasl;
  return options;
}
