/**
 * Builds @tagdrop/contracts into dist/ as a publishable package (`npm publish packages/contracts/dist`):
 * ES modules + declarations. The AppRouter type is expanded into plain procedure signatures, so the
 * declarations never reference the server's source or its internals.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(pkgDir, '../..');
const routerFile = path.join(repo, 'apps/api/src/trpc/router.ts');
const outDir = path.join(pkgDir, 'dist');
const flags =
  ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias | ts.TypeFormatFlags.UseStructuralFallback;

const baseOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  skipLibCheck: true,
  esModuleInterop: true,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  types: ['node'],
};

/** Chunk alias → public export name of @trpc/server's types (its bundled .d.mts renames them). */
function trpcPublicNames(): Map<string, string> {
  const index = ts.sys.readFile(path.join(repo, 'node_modules/@trpc/server/dist/index.d.mts')) ?? '';
  const aliasToLocal = new Map<string, string>();
  for (const m of index.matchAll(/import \{([^}]+)\} from "\.\/unstable-core-do-not-import[^"]*"/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const [alias, local] = part.trim().split(/\s+as\s+/);
      if (alias && local) aliasToLocal.set(alias, local);
    }
  }
  const localToPublic = new Map<string, string>();
  for (const m of index.matchAll(/export \{([^}]+)\}/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const [local, exported] = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if (local && !localToPublic.has(local)) localToPublic.set(local, exported ?? local);
    }
  }
  return new Map(
    [...aliasToLocal].flatMap(([alias, local]) =>
      localToPublic.has(local) ? [[alias, localToPublic.get(local) as string]] : [],
    ),
  );
}

/** `export type AppRouter = TRPCBuiltRouter<{ ctx: object; ... }, { auth: { me: TRPCQueryProcedure<...> } }>` */
function expandRouterType(): string {
  const program = ts.createProgram([routerFile], baseOptions);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(routerFile);
  if (!source) throw new Error(`cannot read ${routerFile}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const appRouter = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'appRouter');
  if (!appRouter) throw new Error('apps/api/src/trpc/router.ts does not export appRouter');
  const prop = (type: ts.Type, name: string) => {
    const symbol = type.getProperty(name);
    if (!symbol) throw new Error(`no property ${name} on ${checker.typeToString(type)}`);
    return checker.getTypeOfSymbolAtLocation(symbol, source);
  };
  const contractsImports = new Map<string, string>();
  const trpcNames = trpcPublicNames();
  const trpcImports = new Set<string>();
  const print = (type: ts.Type) => {
    // Named types of this package are imported from the built package itself.
    const text = checker
      .typeToString(type, source, flags)
      .replace(/import\("[^"]*\/packages\/contracts\/src\/([^"]+)"\)\.(\w+)/g, (_m, file: string, name: string) => {
        contractsImports.set(name, `./${file.replace(/\.ts$/, '')}.js`);
        return name;
      })
      // tRPC's own types, by their public names.
      .replace(/import\("[^"]*\/@trpc\/server\/dist\/[^"]+"\)\.(\w+)/g, (m, alias: string) => {
        const name = trpcNames.get(alias);
        if (!name) return m;
        trpcImports.add(name);
        return name;
      });
    if (/import\(|ContextInner|AppDeps|Kysely/.test(text))
      throw new Error(
        `a server type would leak: ${text.slice(Math.max(0, text.search(/import\(|ContextInner|AppDeps|Kysely/) - 200), text.search(/import\(|ContextInner|AppDeps|Kysely/) + 300)}`,
      );
    return text;
  };

  const routerType = checker.getTypeOfSymbolAtLocation(appRouter, source);
  const def = prop(routerType, '_def');
  const rootTypes = prop(prop(def, '_config'), '$types');
  const errorShape = print(prop(rootTypes, 'errorShape'));

  const kinds = {
    query: 'TRPCQueryProcedure',
    mutation: 'TRPCMutationProcedure',
    subscription: 'TRPCSubscriptionProcedure',
  };
  const walk = (record: ts.Type, indent: string): string => {
    const lines = record.getProperties().map((symbol) => {
      const value = checker.getTypeOfSymbolAtLocation(symbol, source);
      const procDef = value.getProperty('_def') ? prop(value, '_def') : undefined;
      const kindSymbol = procDef?.getProperty('type');
      if (procDef && kindSymbol) {
        const kind = checker
          .typeToString(checker.getTypeOfSymbolAtLocation(kindSymbol, source))
          .replace(/"/g, '') as keyof typeof kinds;
        const $types = prop(procDef, '$types');
        return `${indent}${symbol.name}: ${kinds[kind]}<{ input: ${print(prop($types, 'input'))}; output: ${print(prop($types, 'output'))}; meta: object; errorShape: AppErrorShape }>;`;
      }
      return `${indent}${symbol.name}: {\n${walk(value, `${indent}  `)}\n${indent}};`;
    });
    return lines.join('\n');
  };
  const body = walk(prop(def, 'record'), '    ');
  return [
    '// Generated by packages/contracts/scripts/build.ts from apps/api/src/trpc/router.ts. Do not edit.',
    ...[...contractsImports].map(([name, file]) => `import type { ${name} } from '${file}';`),
    `import type { ${['TRPCBuiltRouter', 'TRPCMutationProcedure', 'TRPCQueryProcedure', 'TRPCSubscriptionProcedure', ...trpcImports].join(', ')} } from '@trpc/server';`,
    `export type AppErrorShape = ${errorShape};`,
    'export type AppRouter = TRPCBuiltRouter<',
    '  { ctx: object; meta: object; errorShape: AppErrorShape; transformer: false },',
    '  {',
    body,
    '  }',
    '>;',
    '',
  ].join('\n');
}

async function main() {
  const routerDeclaration = expandRouterType();
  await fs.rm(outDir, { recursive: true, force: true });

  // Compile the package with router-type.ts served as the expanded declaration.
  const entryFiles = [
    'index.ts',
    'client.ts',
    'upload.ts',
    'session.ts',
    'passkeys.ts',
    'file-kinds.ts',
    'strict-csp.ts',
  ].map((f) => path.join(pkgDir, 'src', f));
  const routerTypeFile = path.join(pkgDir, 'src/router-type.ts');
  const options: ts.CompilerOptions = {
    ...baseOptions,
    outDir,
    rootDir: path.join(pkgDir, 'src'),
    declaration: true,
    sourceMap: false,
    noEmit: false,
    noEmitOnError: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === routerTypeFile ? routerDeclaration : readFile(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, onError, create) =>
    path.resolve(file) === routerTypeFile
      ? ts.createSourceFile(file, routerDeclaration, lang)
      : getSourceFile(file, lang, onError, create);
  const program = ts.createProgram(entryFiles, options, host);
  const outside = program
    .getSourceFiles()
    .filter(
      (f) => !f.fileName.includes('/node_modules/') && !path.resolve(f.fileName).startsWith(path.join(pkgDir, 'src')),
    );
  if (outside.length > 0) throw new Error(`the build would pull in: ${outside.map((f) => f.fileName).join(', ')}`);
  const result = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0) {
    throw new Error(
      ts.formatDiagnosticsWithColorAndContext(diagnostics, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => pkgDir,
        getNewLine: () => '\n',
      }),
    );
  }

  const pkg = JSON.parse(await fs.readFile(path.join(pkgDir, 'package.json'), 'utf8'));
  const entry = (name: string) => ({ types: `./${name}.d.ts`, default: `./${name}.js` });
  const published = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    type: 'module',
    exports: {
      '.': entry('index'),
      './client': entry('client'),
      './upload': entry('upload'),
      './session': entry('session'),
      './passkeys': entry('passkeys'),
      './file-kinds': entry('file-kinds'),
      './strict-csp': entry('strict-csp'),
    },
    dependencies: pkg.dependencies,
    peerDependencies: { '@trpc/server': pkg.devDependencies['@trpc/server'] },
    engines: { node: '>=20' },
  };
  await fs.writeFile(path.join(outDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  const files = await fs.readdir(outDir, { recursive: true });
  console.log(`built ${files.length} files into ${path.relative(repo, outDir)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
