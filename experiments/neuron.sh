# Sourced by the experiment scripts: the neuron every table runs with, as `--set` flags over
# experiments/fmnist-resnet20.yaml (which pins the old shipped values, LIF τ 2 V_th 1 α 4). The
# defaults below are the ones docs/results-defaults.md chose; override any from the environment.
NEURON_TYPE=${NEURON_TYPE:-lif}
TAU=${TAU:-2}
THRESHOLD=${THRESHOLD:-0.5}
ALPHA=${ALPHA:-4}
TDBN=${TDBN:-false}
NEURON=(--set "model.neuron.type=$NEURON_TYPE" --set "model.neuron.tau=$TAU" --set "model.neuron.threshold=$THRESHOLD"
  --set "model.neuron.surrogate.alpha=$ALPHA" --set "model.tdBN=$TDBN")
NEURON_TEXT="$NEURON_TYPE, τ $TAU, V_th $THRESHOLD, hard detached reset, sigmoid surrogate α $ALPHA, tdBN $TDBN"
