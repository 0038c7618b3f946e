/**
 * Fixed facts about each file-based data set: the published normalisation constants (computed
 * once on the full training split, as the literature and torchvision examples use them), the
 * class names in label order, and system folders where a distribution installs the files.
 */
import type { DatasetName } from '../config/schema.js';

/** imagefolder is read file by file from a folder the user names (imageFolder.ts), not from a known format. */
export type FileDatasetName = Exclude<DatasetName, 'synthetic' | 'imagefolder'>;
/** The data sets whose samples are images (the rest of the file-based ones are event streams). */
export type ImageDatasetName = Exclude<FileDatasetName, 'cifar10-dvs'>;

export interface DatasetInfo {
  /** Normalisation constants; empty for event data, whose frames are raw counts. */
  mean: number[];
  std: number[];
  classNames: string[];
  /** Folders a package manager puts the files in, tried after the project's own datasets/. */
  systemPaths: string[];
  /** A hint for the error message when the files are nowhere. */
  howToGet: string;
}

const CIFAR100_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

export const CATALOG: Record<FileDatasetName, DatasetInfo> = {
  'fashion-mnist': {
    mean: [0.286],
    std: [0.353],
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    systemPaths: ['/usr/share/datasets/fashion-mnist'],
    howToGet: 'run snn data fetch fashion-mnist; on Debian/Ubuntu: apt install dataset-fashion-mnist; or use the shipped subset with data.root: datasets/fashion-mnist-subset',
  },
  mnist: {
    mean: [0.1307],
    std: [0.3081],
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    systemPaths: [],
    howToGet: 'run snn data fetch mnist, or download the four IDX files of MNIST',
  },
  cifar10: {
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    systemPaths: [],
    howToGet: 'run snn data fetch cifar10, or download and unpack cifar-10-binary.tar.gz, the binary version of CIFAR-10',
  },
  cifar100: {
    mean: [0.5071, 0.4865, 0.4409],
    std: [0.2673, 0.2564, 0.2762],
    classNames: CIFAR100_CLASSES,
    systemPaths: [],
    howToGet: 'run snn data fetch cifar100, or download and unpack cifar-100-binary.tar.gz, the binary version of CIFAR-100',
  },
  'cifar10-dvs': {
    mean: [],
    std: [],
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    systemPaths: [],
    howToGet: 'run snn data fetch cifar10-dvs, or unpack the ten class zips of CIFAR10-DVS from figshare',
  },
};
