/**
 * The loader's error when no addon loads: a copy of the package's dist/lib and package.json (no
 * build/, no prebuilds/; node_modules linked to this clone's for the JS dependencies), required in a
 * child process. The addon is needed at the first native op, not at require: setBackend('js') must
 * stay possible without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
let tmp = '';
let pkg = '';

beforeAll(() => {
  expect(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js')), 'dist/lib is built (npx tsc -p tsconfig.json)').toBe(true);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdcnn-loader-'));
  pkg = path.join(tmp, 'simdcnn');
  fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist', 'lib'), path.join(pkg, 'dist', 'lib'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Probe {
  required: boolean;
  opError?: { name: string; message: string };
  cpuInfoError?: string;
  jsBackend?: string;
  jsRelu?: number[];
  jsLenetShape?: number[];
  jsLenetFinite?: boolean;
}

/** Requires the copy in a fresh node (cwd: the temp dir, not this clone) and reports what happened. */
function probe(): Probe {
  const code = `
    const out = { required: false };
    const m = require(${JSON.stringify(pkg)});
    out.required = true;
    try { m.ops.relu(m.tensor([-1, 2], [2])); } catch (e) { out.opError = { name: e.constructor.name, message: e.message }; }
    try { m.cpuInfo(); } catch (e) { out.cpuInfoError = e.message; }
    m.setBackend('js');
    out.jsBackend = m.getBackend();
    out.jsRelu = Array.from(m.ops.relu(m.tensor([-1.5, 0, 2.25], [3])).toArray());
    m.manualSeed(3);
    const y = m.models.lenet5().call(m.randn([2, 1, 28, 28]));
    out.jsLenetShape = y.shape.slice();
    out.jsLenetFinite = Array.from(y.toArray()).every(Number.isFinite);
    console.log(JSON.stringify(out));`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'SIMDCNN_ISA' && !k.endsWith('_PREBUILD')));
  const r = spawnSync(process.execPath, ['-e', code], { cwd: tmp, env, encoding: 'utf8', timeout: 60_000 });
  const all = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  expect(r.signal, all).toBeNull();
  expect(r.status, all).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

function expectNamesPlatformAndFix(message: string): void {
  expect(message).toContain('simdcnn: could not load the native addon');
  expect(message).toContain(`${process.platform}-${process.arch}`);
  if (process.platform === 'linux') {
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
    expect(message).toContain(glibc ? `libc: glibc ${glibc}` : 'libc: musl');
  }
  expect(message).toContain(`Node ${process.versions.node}`);
  expect(message).toContain(`Node-API ${process.versions.napi}`);
  expect(message).toContain('the addon needs Node-API >= 8');
  expect(message).toContain('npm rebuild simdcnn');
  expect(message).toMatch(/python3, make and a C\+\+17 compiler/);
  expect(message).toContain("setBackend('js')");
  expect(message).toContain(path.join(pkg, 'prebuilds'));
  expect(message).toContain(path.join(pkg, 'build', 'Release'));
}

describe('loader: no addon (no build/, no prebuilds/)', () => {
  it('require succeeds; the first native op throws the error naming platform, arch, libc, Node-API and the fix', () => {
    const p = probe();
    expect(p.required).toBe(true);
    expect(p.opError, 'the first native op must throw').toBeDefined();
    expect(p.opError!.name).toBe('Error');
    expectNamesPlatformAndFix(p.opError!.message);
    expect(p.opError!.message).toContain('Prebuilds in this package: none');
    // node-gyp-build's own reason, kept as the cause.
    expect(p.opError!.message).toMatch(/Cause: No native build was found for platform=\S+ arch=\S+/);
  });

  it('cpuInfo() throws the same error (it needs the addon)', () => {
    const p = probe();
    expect(p.cpuInfoError).toBeDefined();
    expectNamesPlatformAndFix(p.cpuInfoError!);
  });

  it("setBackend('js') still works: ops and a LeNet-5 forward run on the TypeScript kernels", () => {
    const p = probe();
    expect(p.jsBackend).toBe('js');
    expect(p.jsRelu).toEqual([0, 0, 2.25]);
    expect(p.jsLenetShape).toEqual([2, 10]);
    expect(p.jsLenetFinite).toBe(true);
  });
});

describe('loader: a prebuild for this host that does not load', () => {
  it('names the shipped prebuild and passes the dlopen error through as the cause', () => {
    const target = `${process.platform}-${process.arch}`;
    const dir = path.join(pkg, 'prebuilds', target);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'simdcnn.glibc.node');
    fs.writeFileSync(file, 'not an ELF file');
    // node-gyp-build picks prebuilds by libc tag: on musl the copy must carry the musl tag.
    if (fs.existsSync('/etc/alpine-release')) fs.renameSync(file, path.join(dir, 'simdcnn.musl.node'));
    try {
      const p = probe();
      expect(p.opError).toBeDefined();
      expectNamesPlatformAndFix(p.opError!.message);
      expect(p.opError!.message).toMatch(new RegExp(`Prebuilds in this package: ${target} \\((glibc|musl)\\)`));
      expect(p.opError!.message).toMatch(/Cause: .*simdcnn\.(glibc|musl)\.node.*(invalid ELF header|file too short)/);
      expect(p.jsRelu).toEqual([0, 0, 2.25]);
    } finally {
      fs.rmSync(path.join(pkg, 'prebuilds'), { recursive: true, force: true });
    }
  });
});
