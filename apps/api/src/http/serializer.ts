import { isDeepStrictEqual } from 'node:util';
import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';

type Json = Record<string, unknown>;

/**
 * The JSON Schema of a response's zod schema in the form fast-json-stringify writes fastest: a nullable value as a
 * type list (`["string", "null"]`) rather than `anyOf` (which fast-json-stringify resolves with a validator for
 * every value), and without the checks it does not apply anyway (`pattern`, `format`, bounds).
 */
function forSerializer(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forSerializer);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (['pattern', 'format', 'minimum', 'maximum', 'description', '$schema'].includes(key)) continue;
    out[key] = key === 'properties' || key === 'definitions' ? mapValues(value as Json) : forSerializer(value);
  }
  const anyOf = out.anyOf as Json[] | undefined;
  if (anyOf?.length === 2) {
    const nullAt = anyOf.findIndex((s) => s.type === 'null' && Object.keys(s).length === 1);
    const other = anyOf[1 - nullAt];
    if (nullAt >= 0 && other && typeof other.type === 'string' && !('anyOf' in other) && !('$ref' in other)) {
      const { anyOf: _, ...rest } = out;
      return { ...rest, ...other, type: [other.type, 'null'] };
    }
  }
  return out;
}

const mapValues = (o: Json) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, forSerializer(v)]));

/**
 * Responses written by fast-json-stringify from the JSON Schema of their zod schema, as Fastify does for JSON
 * Schema routes: only the declared properties are written (a stray field on an object never reaches a client),
 * with no zod pass over every value. Profiled on `GET /api/files/`: zod's encode and JSON.stringify were ~10% of
 * the request's CPU. A schema that JSON Schema cannot express (transforms) keeps the zod serializer.
 *
 * `check` (development and tests): every response is also serialized the zod way, which validates it, and the two
 * must agree, so the whole test suite proves that the fast writer answers exactly what the schema allows.
 *
 * Each writer is compiled by the first response that needs it (~1–3 ms each, ~90 route/status pairs, most of them
 * error answers rarely sent), not at start-up.
 */
export function createSerializerCompiler({ check }: { check: boolean }): FastifySerializerCompiler<ZodType> {
  return (route) => {
    const viaZod = zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
    let writer: ((data: unknown) => string) | undefined;
    const compile = () => {
      try {
        const json = z.toJSONSchema(route.schema, { io: 'output', target: 'draft-07', unrepresentable: 'throw' });
        const fast = fastJson(forSerializer(json) as Parameters<typeof fastJson>[0]);
        return check ? checked(fast) : fast;
      } catch {
        return viaZod;
      }
    };
    const checked = (fast: (data: unknown) => string) => (data: unknown) => {
      const expected = viaZod(data);
      const written = fast(data);
      if (!isDeepStrictEqual(JSON.parse(written), JSON.parse(expected))) {
        throw new Error(`${route.method} ${route.url} ${route.httpStatus}: fast serializer differs from the schema's`);
      }
      return written;
    };
    return (data) => {
      writer ??= compile();
      return writer(data);
    };
  };
}
