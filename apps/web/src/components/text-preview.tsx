import { useQuery } from '@tanstack/react-query';
import { toJsxRuntime } from 'hast-util-to-jsx-runtime';
import { common, createLowlight } from 'lowlight';
import { Fragment, jsx, jsxs } from 'react/jsx-runtime';
import { formatBytes } from '../lib/format';

/** The first bytes of a text file that the preview shows. */
export const TEXT_PREVIEW_BYTES = 256 * 1024;

const lowlight = createLowlight(common);

/** File name extension → highlight.js language (only ones in lowlight's `common` set). */
const LANGUAGES: Record<string, string> = {
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  css: 'css',
  diff: 'diff',
  patch: 'diff',
  go: 'go',
  graphql: 'graphql',
  ini: 'ini',
  toml: 'ini',
  java: 'java',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  json: 'json',
  kt: 'kotlin',
  less: 'less',
  lua: 'lua',
  makefile: 'makefile',
  md: 'markdown',
  markdown: 'markdown',
  m: 'objectivec',
  pl: 'perl',
  php: 'php',
  py: 'python',
  r: 'r',
  rb: 'ruby',
  rs: 'rust',
  scss: 'scss',
  sh: 'bash',
  bash: 'bash',
  zsh: 'bash',
  sql: 'sql',
  swift: 'swift',
  ts: 'typescript',
  tsx: 'typescript',
  vb: 'vbnet',
  wasm: 'wasm',
  html: 'xml',
  htm: 'xml',
  xml: 'xml',
  svg: 'xml',
  yaml: 'yaml',
  yml: 'yaml',
};

export function languageOf(name: string): string | undefined {
  const lower = name.toLowerCase();
  const ext = lower === 'makefile' || lower === 'dockerfile' ? lower : /\.([a-z0-9]+)$/.exec(lower)?.[1];
  const language = ext ? LANGUAGES[ext] : undefined;
  return language && lowlight.registered(language) ? language : undefined;
}

async function fetchStart(url: string, size: number): Promise<string> {
  if (size === 0) return '';
  const res = await fetch(url, { headers: { range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } });
  if (!res.ok) throw new Error(`The preview could not be loaded (${res.status}).`);
  const bytes = new Uint8Array(await res.arrayBuffer()).subarray(0, TEXT_PREVIEW_BYTES);
  // Not fatal: the cut may split a character; a trailing replacement character from that cut is dropped.
  const text = new TextDecoder('utf-8').decode(bytes);
  return size > TEXT_PREVIEW_BYTES ? text.replace(/\uFFFD$/, '') : text;
}

/**
 * The start of a text file (one Range request), highlighted by lowlight when its name says it is code. The text
 * and the highlighter's tree become React text nodes and <span>s: never HTML, whatever the file contains.
 */
export default function TextPreview({ url, name, size }: { url: string; name: string; size: number }) {
  const text = useQuery({
    queryKey: ['preview-text', url],
    queryFn: () => fetchStart(url, size),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  if (text.isPending) return <p className="muted">Loading preview…</p>;
  if (text.isError) {
    return (
      <p className="error" role="alert">
        {text.error.message}
      </p>
    );
  }
  const language = languageOf(name);
  const code = language ? toJsxRuntime(lowlight.highlight(language, text.data), { Fragment, jsx, jsxs }) : text.data;
  return (
    <>
      {size > TEXT_PREVIEW_BYTES ? (
        <p className="muted small" data-testid="text-truncated">
          The first {formatBytes(TEXT_PREVIEW_BYTES)} of {formatBytes(size)}.
        </p>
      ) : null}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the text scrolls; keyboard users must reach it to scroll it */}
      <section className="preview-text" tabIndex={0} aria-label={`Text of ${name}`}>
        <pre>
          <code className={language ? `hljs language-${language}` : undefined} data-language={language}>
            {code}
          </code>
        </pre>
      </section>
    </>
  );
}
