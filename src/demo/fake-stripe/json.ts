/** The wire form of Stripe objects: what JSON.stringify produces and expansion rewrites. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/**
 * A detached wire copy of a stored object. JSON round-tripping also turns the SDK's Decimal
 * values back into the decimal strings Stripe sends.
 */
export function toWire(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
