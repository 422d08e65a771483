/** Sluice's version, reported by the API and `-v`. */
export const VERSION = '0.1.0';
