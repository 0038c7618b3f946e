/** Imports every architecture so that it registers itself; import models from here. */
import './resnet.js';

export { buildModel, listModels } from './registry.js';
export type { InputSpec, LayerInfo, SpikingModel } from './types.js';
