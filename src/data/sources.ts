/**
 * Where each data set is published, with the checksums its publishers give.
 *
 * - MNIST: Yann LeCun's page (often refusing downloads now) and the mirror torchvision uses;
 *   md5s as published with torchvision's MNIST class.
 * - Fashion-MNIST: Zalando's own bucket, md5s from the project's README (zalandoresearch/fashion-mnist).
 * - For both, the md5s of the decompressed files too, as many loaders list them (they agree
 *   with the published archives' content), so that a repacked copy can be checked.
 * - CIFAR-10 / CIFAR-100: the binary versions from Alex Krizhevsky's page, md5s from that page.
 * - CIFAR10-DVS: figshare (article 4724671, "CIFAR10-DVS_New", Li et al. 2017), one zip per class. figshare's
 *   landing page shows no checksum we could copy; the md5s are the ones SpikingJelly's
 *   `CIFAR10DVS.resource_url_md5()` lists for these same file ids, which its users have been
 *   downloading against for years.
 *
 * A mirror (`--mirror URL` or the SNN_DATA_MIRROR environment variable) replaces every URL by
 * `<mirror>/<file name>`: a flat folder of the files under their published names.
 */
import type { FileDatasetName } from './catalog.js';

export interface RemoteFile {
  /** The file's published name, also its name on disk and on a mirror. */
  name: string;
  /** Tried in order. */
  urls: string[];
  md5: string;
  /**
   * md5 of the decompressed content, for gzip files: a repacked copy (Debian's gzip files differ
   * byte-wise from the published ones) can still be checked by its content.
   */
  rawMd5?: string;
  /** Bytes, when known: for the progress bar if the server sends no length. */
  size?: number;
}

/** keep: the files are used as downloaded (gzip IDX); tar.gz / zip: unpacked into the root. */
export type Unpack = 'keep' | 'tar.gz' | 'zip';

export interface DatasetSource {
  name: FileDatasetName;
  files: RemoteFile[];
  unpack: Unpack;
  /** For the message that says where to get the files by hand. */
  homepage: string;
}

const MNIST_MIRRORS = ['http://yann.lecun.com/exdb/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'];
const FASHION = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const TORONTO = 'https://www.cs.toronto.edu/~kriz/';
const FIGSHARE = 'https://ndownloader.figshare.com/files/';

type Four = [string, string, string, string];
const idx = (bases: string[], md5s: Four, rawMd5s: Four): RemoteFile[] =>
  ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map(
    (name, i) => ({ name, urls: bases.map((b) => b + name), md5: md5s[i], rawMd5: rawMd5s[i] }),
  );

const DVS: [string, number, string][] = [
  ['airplane', 7712788, '0afd5c4bf9ae06af762a77b180354fdd'],
  ['automobile', 7712791, '8438dfeba3bc970c94962d995b1b9bdd'],
  ['bird', 7712794, 'a9c207c91c55b9dc2002dc21c684d785'],
  ['cat', 7712812, '52c63c677c2b15fa5146a8daf4d56687'],
  ['deer', 7712815, 'b6bf21f6c04d21ba4e23fc3e36c8a4a3'],
  ['dog', 7712818, 'f379ebdf6703d16e0a690782e62639c3'],
  ['frog', 7712842, 'cad6ed91214b1c7388a5f6ee56d08803'],
  ['horse', 7712851, 'e7cbbf77bec584ffbf913f00e682782a'],
  ['ship', 7712836, '41c7bd7d6b251be82557c6cce9a7d5c9'],
  ['truck', 7712839, '89f3922fd147d9aeff89e76a2b0b70a7'],
];

export const SOURCES: Record<FileDatasetName, DatasetSource> = {
  mnist: {
    name: 'mnist',
    unpack: 'keep',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    files: idx(MNIST_MIRRORS, [
      'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'd53e105ee54ea40749a09fcbcd1e9432',
      '9fb629c4189551a2d022fa330f9573f3',
      'ec29112dd5afa0611ce80d1b7f02629c',
    ], [
      '6bbc9ace898e44ae57da46a324031adb',
      'a25bea736e30d166cdddb491f175f624',
      '2646ac647ad5339dbf082846283269ea',
      '27ae3e4e09519cfbb04c329615203637',
    ]),
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    unpack: 'keep',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    files: idx([FASHION], [
      '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      '25c81989df183df01b3e8a0aad5dffbe',
      'bef4ecab320f06d8554ea6380940ec79',
      'bb300cfdad3c16e7a12a480ee83cd310',
    ], [
      'f4a8712d7a061bf5bd6d2ca38dc4d50a',
      '9018921c3c673c538a1fc5bad174d6f9',
      '8181f5470baa50b63fa0f6fddb340f0a',
      '15d484375f8d13e6eb1aabb0c3f46965',
    ]),
  },
  cifar10: {
    name: 'cifar10',
    unpack: 'tar.gz',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    files: [{ name: 'cifar-10-binary.tar.gz', urls: [`${TORONTO}cifar-10-binary.tar.gz`], md5: 'c32a1d4ab5d03f1284b67883e8d87530', size: 170052171 }],
  },
  cifar100: {
    name: 'cifar100',
    unpack: 'tar.gz',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    files: [{ name: 'cifar-100-binary.tar.gz', urls: [`${TORONTO}cifar-100-binary.tar.gz`], md5: '03b5dce01913d631647c71ecec9e9cb8', size: 168513733 }],
  },
  'cifar10-dvs': {
    name: 'cifar10-dvs',
    unpack: 'zip',
    homepage: 'https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671',
    files: DVS.map(([cls, id, md5]) => ({ name: `${cls}.zip`, urls: [`${FIGSHARE}${id}`], md5 })),
  },
};

/** The source with its URLs replaced by `<mirror>/<name>` when a mirror is given. */
export function withMirror(source: DatasetSource, mirror: string | null | undefined): DatasetSource {
  if (!mirror) return source;
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  return { ...source, files: source.files.map((f) => ({ ...f, urls: [base + encodeURIComponent(f.name)] })) };
}
