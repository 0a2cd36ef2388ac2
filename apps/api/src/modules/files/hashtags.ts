import { MAX_HASHTAG_LENGTH, MAX_HASHTAGS } from '@tagdrop/contracts';
import { AppError } from '../../errors.js';

/** Lowercase ASCII letters, digits and underscore; accents folded (#Café → cafe); a leading # dropped. */
export function normalizeHashtag(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .replace(/^#+/, '')
    .toLowerCase()
    .replace(/[\s-]+/g, '_')
    .replace(/[^a-z0-9_]/g, '');
}

/** #words written in a description. */
export function hashtagsInText(text: string): string[] {
  return [...text.matchAll(/(?:^|[^\p{L}\p{N}_&/#])#([\p{L}\p{N}_]+)/gu)].map((m) => normalizeHashtag(m[1] ?? ''));
}

/**
 * The file's hashtags: the explicit list (array, or comma/space separated string) plus #words in the
 * description, normalised and de-duplicated, in first-seen order. Too long or too many → 400.
 */
export function collectHashtags(explicit: string[] | string | undefined, description: string | undefined): string[] {
  const list = typeof explicit === 'string' ? explicit.split(/[,\s]+/) : (explicit ?? []);
  const names: string[] = [];
  const add = (raw: string, fromDescription: boolean) => {
    const name = normalizeHashtag(raw);
    if (!name) return;
    if (name.length > MAX_HASHTAG_LENGTH) {
      if (fromDescription) return;
      throw new AppError('validation_error', `Hashtags are at most ${MAX_HASHTAG_LENGTH} characters.`, {
        fields: { hashtags: [`"${raw.slice(0, 60)}" is longer than ${MAX_HASHTAG_LENGTH} characters`] },
      });
    }
    if (!names.includes(name)) names.push(name);
  };
  for (const raw of list) add(raw, false);
  for (const raw of hashtagsInText(description ?? '')) add(raw, true);
  if (names.length > MAX_HASHTAGS) {
    throw new AppError('validation_error', `A file has at most ${MAX_HASHTAGS} hashtags.`, {
      fields: { hashtags: [`${names.length} hashtags given, at most ${MAX_HASHTAGS} allowed`] },
    });
  }
  return names;
}
