"""nets.py -- the networks of the capture examples, with the zoo's layer names.

LeNet-5 (LeCun et al., 1998; ReLU and max pooling as usual today) for 1x32x32 inputs, and the
CIFAR ResNet-20 of He et al. (CVPR 2016, section 4.2: 6n+2 layers, n = 3, 16/32/64 channels,
shortcut option A = subsample by the stride and zero-pad the channels, no parameters) for
3x32x32 inputs.  Module names are those of models/resnet20.model (conv1, bn1, relu1,
layer1.0.conv1, ..., layer1.0.relu2, pool, fc; the residual add is the functional
`layer1.0.add`), so a captured trace replays on the zoo's `resnet20` as it is.  The MAC layers
are capture.quant's QConv2d / QLinear, so the examples can fake-quantise them.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .quant import QConv2d, QLinear


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = QConv2d(1, 6, 5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = QConv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = QConv2d(16, 120, 5)
        self.relu3 = nn.ReLU()
        self.fc1 = QLinear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc2 = QLinear(84, classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(self.relu3(self.conv3(x)), 1)
        return self.fc2(self.relu4(self.fc1(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = QConv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = QConv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.stride, self.pad = stride, cout - cin

    def shortcut(self, x):
        """Option A: x[:, :, ::s, ::s], zero channels split evenly before and after."""
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        out = out + self.shortcut(x)
        return self.relu2(out)


class ResNetCifar(nn.Module):
    def __init__(self, n=3, classes=10, in_channels=3):
        super().__init__()
        self.conv1 = QConv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU(inplace=True)
        width = 16
        for stage, planes in enumerate((16, 32, 64), start=1):
            blocks = []
            for b in range(n):
                stride = 2 if stage > 1 and b == 0 else 1
                blocks.append(BasicBlock(width, planes, stride))
                width = planes
            setattr(self, "layer%d" % stage, nn.Sequential(*blocks))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = QLinear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def resnet20(classes=10):
    return ResNetCifar(3, classes)
