#!/bin/sh
# make bench: speed figures. Each section is added by the issue that brings the feature.
set -e
echo "bitsim bench: nothing to measure yet"
