#!/bin/sh
# The main job (make demo). Grows with the issues: for now, the op counts of ResNet-20.
set -e
./bitsim model show resnet20
