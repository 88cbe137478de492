/** ekaf's version, sent to brokers in ApiVersions v3+ (KIP-511). Keep in step with package.json. */
export const EKAF_VERSION = '0.1.0';
export const EKAF_SOFTWARE_NAME = 'ekaf';
