"""EfficientNet-B0, SqueezeNet 1.0, Xception, Inception v4, Inception-ResNet-v2 and
BN-Inception built from torch.nn in the layouts their YAML files' headers name (written
for this project from the architectures, not copied), for inference_memory_more_cpu.py.
Each builder returns (model, {the tool's module name: that submodule}); each has the
parameter count `inception-cost NAME -f json` reports."""
import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- EfficientNet-B0, torchvision layout
class ConvBNAct(nn.Sequential):  # torchvision's Conv2dNormActivation: a Sequential(conv, bn, act)
    def __init__(self, cin, cout, k, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout, eps=1e-3)]
        if act:
            layers.append(nn.SiLU(inplace=True))
        super().__init__(*layers)


class SE(nn.Module):
    def __init__(self, cin, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(cin, squeeze, 1), nn.Conv2d(squeeze, cin, 1)
        self.act, self.gate = nn.SiLU(inplace=True), nn.Sigmoid()

    def forward(self, x):
        s = self.gate(self.fc2(self.act(self.fc1(self.avgpool(x)))))
        return s * x


class MBConv(nn.Module):
    def __init__(self, cin, cout, t, k, stride):
        super().__init__()
        hidden = cin * t
        layers = [ConvBNAct(cin, hidden, 1)] if t != 1 else []
        layers += [ConvBNAct(hidden, hidden, k, stride, hidden), SE(hidden, max(1, cin // 4)),
                   ConvBNAct(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        r = self.block(x)
        if self.res:
            r = r  # stochastic depth: identity in eval
            r += x
        return r


class EffNet(nn.Module):
    def __init__(self, stages_as_sequential=True):
        super().__init__()
        names = {}
        feats = [ConvBNAct(3, 32, 3, 2)]
        names["features_0"] = feats[0]
        cin, i = 32, 1
        for t, k, s, cout, n in ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                                 (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)):
            stage = []
            for j in range(n):
                b = MBConv(cin, cout, t, k, s if j == 0 else 1)
                names[f"features_{i}"] = b
                stage.append(b)
                cin, i = cout, i + 1
            feats += [nn.Sequential(*stage)] if stages_as_sequential else stage
        feats.append(ConvBNAct(320, 1280, 1))
        names["features_head"] = feats[-1]
        self.features = nn.Sequential(*feats)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(1280, 1000))
        self.names = names

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def efficientnet_b0(stages=True):
    m = EffNet(stages)
    return m, m.names


# ---------------------------------------------------------------- SqueezeNet 1.0, torchvision layout
class Fire(nn.Module):
    def __init__(self, cin, sq, e1, e3):
        super().__init__()
        self.squeeze, self.squeeze_act = nn.Conv2d(cin, sq, 1), nn.ReLU(inplace=True)
        self.e1, self.e1_act = nn.Conv2d(sq, e1, 1), nn.ReLU(inplace=True)
        self.e3, self.e3_act = nn.Conv2d(sq, e3, 3, padding=1), nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_act(self.squeeze(x))
        return torch.cat([self.e1_act(self.e1(x)), self.e3_act(self.e3(x))], 1)


class Squeeze(nn.Module):
    def __init__(self):
        super().__init__()
        def mp():
            return nn.MaxPool2d(3, 2, ceil_mode=True)

        f = [Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
             Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)]
        self.features = nn.Sequential(nn.Conv2d(3, 96, 7, 2), nn.ReLU(inplace=True), mp(), f[0], f[1], f[2], mp(),
                                      f[3], f[4], f[5], f[6], mp(), f[7])
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, 1000, 1), nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d(1))
        self.names = {f"fire{i + 2}": m for i, m in enumerate(f)}
        self.names["classifier"] = self.classifier

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def squeezenet1_0():
    m = Squeeze()
    return m, m.names


# ---------------------------------------------------------------- Xception
class SepConv(nn.Module):  # depthwise 3x3 then pointwise 1x1, no biases (timm legacy / Keras SeparableConv2D)
    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        x = self.dw(x)
        return self.pw(x)


class XBlock(nn.Module):
    """timm legacy_xception's Block: rep = [ReLU(inplace=False)?] (Sep, BN, ReLU(inplace))..., [MaxPool];
    forward: x = rep(inp)
    skip = skipbn(skip(inp)) or inp
    x += skip.  keras_order: the shortcut first."""
    def __init__(self, cin, cout, reps, stride, start_relu=True, grow_first=True, keras_order=False):
        super().__init__()
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if cout != cin or stride != 1 else None)
        rep, ch = [], cin
        for i in range(reps):
            o = cout if grow_first or i == reps - 1 else cin
            rep += [nn.ReLU(inplace=True), SepConv(ch, o), nn.BatchNorm2d(o)]
            ch = o
        if start_relu:
            rep[0] = nn.ReLU(inplace=False)
        else:
            rep = rep[1:]
        if stride != 1:
            rep.append(nn.MaxPool2d(3, stride, 1))
        self.rep = nn.Sequential(*rep)
        self.keras_order = keras_order

    def forward(self, inp):
        if self.keras_order:
            skip = self.skip(inp) if self.skip is not None else inp
            x = self.rep(inp)
        else:
            x = self.rep(inp)
            skip = self.skip(inp) if self.skip is not None else inp
        x += skip
        return x


class Xception(nn.Module):
    def __init__(self, keras_order=False):
        super().__init__()
        ko = keras_order
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, 2, 0, bias=False), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        blocks = [XBlock(64, 128, 2, 2, start_relu=False, keras_order=ko), XBlock(128, 256, 2, 2, keras_order=ko),
                  XBlock(256, 728, 2, 2, keras_order=ko)]
        blocks += [XBlock(728, 728, 3, 1, keras_order=ko) for _ in range(8)]
        blocks += [XBlock(728, 1024, 2, 2, grow_first=False, keras_order=ko)]
        self.blocks = nn.ModuleList(blocks)
        self.conv3, self.bn3 = SepConv(1024, 1536), nn.BatchNorm2d(1536)
        self.conv4, self.bn4 = SepConv(1536, 2048), nn.BatchNorm2d(2048)
        self.fc = nn.Linear(2048, 1000)
        self.names = {f"block{i + 2}": b for i, b in enumerate(blocks)}

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        for b in self.blocks:
            x = b(x)
        x = self.relu(self.bn3(self.conv3(x)))
        x = self.relu(self.bn4(self.conv4(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def xception(keras_order=False):
    m = Xception(keras_order)
    return m, m.names


# ---------------------------------------------------------------- Inception-v4, timm layout
class CNA(nn.Module):  # timm ConvNormAct: conv (no bias), BatchNormAct2d (bn, then ReLU in place)
    def __init__(self, cin, cout, k, stride=1, padding=0, bias=False, relu_inplace=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, bias=bias)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = nn.ReLU(inplace=relu_inplace)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x)
        return self.act(x)


def _seq(*m):
    return nn.Sequential(*m)


class Mixed3a(nn.Module):
    def __init__(self):
        super().__init__()
        self.maxpool, self.conv = nn.MaxPool2d(3, 2), CNA(64, 96, 3, 2)

    def forward(self, x):
        a = self.maxpool(x)
        b = self.conv(x)
        return torch.cat((a, b), 1)


class Mixed4a(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = _seq(CNA(160, 64, 1), CNA(64, 96, 3))
        self.b1 = _seq(CNA(160, 64, 1), CNA(64, 64, (1, 7), padding=(0, 3)), CNA(64, 64, (7, 1), padding=(3, 0)),
                       CNA(64, 96, 3))

    def forward(self, x):
        a = self.b0(x)
        b = self.b1(x)
        return torch.cat((a, b), 1)


class Mixed5a(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.maxpool = CNA(192, 192, 3, 2), nn.MaxPool2d(3, 2)

    def forward(self, x):
        a = self.conv(x)
        b = self.maxpool(x)
        return torch.cat((a, b), 1)


class Branches(nn.Module):  # x0 = b0(x); x1 = b1(x); ...; cat
    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        return torch.cat(outs, 1)


def inception_a4():
    return Branches(CNA(384, 96, 1), _seq(CNA(384, 64, 1), CNA(64, 96, 3, padding=1)),
                    _seq(CNA(384, 64, 1), CNA(64, 96, 3, padding=1), CNA(96, 96, 3, padding=1)),
                    _seq(nn.AvgPool2d(3, 1, 1, count_include_pad=False), CNA(384, 96, 1)))


def reduction_a4():
    return Branches(CNA(384, 384, 3, 2), _seq(CNA(384, 192, 1), CNA(192, 224, 3, padding=1), CNA(224, 256, 3, 2)),
                    nn.MaxPool2d(3, 2))


def inception_b4():
    return Branches(CNA(1024, 384, 1),
                    _seq(CNA(1024, 192, 1), CNA(192, 224, (1, 7), padding=(0, 3)),
                         CNA(224, 256, (7, 1), padding=(3, 0))),
                    _seq(CNA(1024, 192, 1), CNA(192, 192, (7, 1), padding=(3, 0)),
                         CNA(192, 224, (1, 7), padding=(0, 3)),
                         CNA(224, 224, (7, 1), padding=(3, 0)), CNA(224, 256, (1, 7), padding=(0, 3))),
                    _seq(nn.AvgPool2d(3, 1, 1, count_include_pad=False), CNA(1024, 128, 1)))


def reduction_b4():
    return Branches(_seq(CNA(1024, 192, 1), CNA(192, 192, 3, 2)),
                    _seq(CNA(1024, 256, 1), CNA(256, 256, (1, 7), padding=(0, 3)),
                         CNA(256, 320, (7, 1), padding=(3, 0)),
                         CNA(320, 320, 3, 2)),
                    nn.MaxPool2d(3, 2))


class InceptionC4(nn.Module):
    """timm's InceptionC: every intermediate is a named local, alive until forward returns."""
    def __init__(self):
        super().__init__()
        self.b0 = CNA(1536, 256, 1)
        self.b1_0 = CNA(1536, 384, 1)
        self.b1_1a, self.b1_1b = CNA(384, 256, (1, 3), padding=(0, 1)), CNA(384, 256, (3, 1), padding=(1, 0))
        self.b2_0 = CNA(1536, 384, 1)
        self.b2_1 = CNA(384, 448, (3, 1), padding=(1, 0))
        self.b2_2 = CNA(448, 512, (1, 3), padding=(0, 1))
        self.b2_3a, self.b2_3b = CNA(512, 256, (1, 3), padding=(0, 1)), CNA(512, 256, (3, 1), padding=(1, 0))
        self.b3 = _seq(nn.AvgPool2d(3, 1, 1, count_include_pad=False), CNA(1536, 256, 1))

    def forward(self, x):
        x0 = self.b0(x)
        x1_0 = self.b1_0(x)
        x1_1a = self.b1_1a(x1_0)
        x1_1b = self.b1_1b(x1_0)
        x1 = torch.cat((x1_1a, x1_1b), 1)
        x2_0 = self.b2_0(x)
        x2_1 = self.b2_1(x2_0)
        x2_2 = self.b2_2(x2_1)
        x2_3a = self.b2_3a(x2_2)
        x2_3b = self.b2_3b(x2_2)
        x2 = torch.cat((x2_3a, x2_3b), 1)
        x3 = self.b3(x)
        return torch.cat((x0, x1, x2, x3), 1)


class Head(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c, 1000)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class SeqNet(nn.Module):
    def __init__(self, features, head):
        super().__init__()
        self.features, self.head = features, head

    def forward(self, x):
        return self.head(self.features(x))


def inception_v4():
    feats = [CNA(3, 32, 3, 2), CNA(32, 32, 3), CNA(32, 64, 3, padding=1), Mixed3a(), Mixed4a(), Mixed5a()]
    names = {"mixed_3a": feats[3], "mixed_4a": feats[4], "mixed_5a": feats[5]}
    for i in range(4):
        feats.append(inception_a4())
        names[f"inception_a_{i + 1}"] = feats[-1]
    feats.append(reduction_a4())
    names["reduction_a"] = feats[-1]
    for i in range(7):
        feats.append(inception_b4())
        names[f"inception_b_{i + 1}"] = feats[-1]
    feats.append(reduction_b4())
    names["reduction_b"] = feats[-1]
    for i in range(3):
        feats.append(InceptionC4())
        names[f"inception_c_{i + 1}"] = feats[-1]
    return SeqNet(nn.Sequential(*feats), Head(1536)), names


# ---------------------------------------------------------------- Inception-ResNet-v2, timm layout
def B(cin, cout, k, stride=1, padding=0):  # timm IRv2 BasicConv2d: conv, bn, ReLU(inplace=False)
    return CNA(cin, cout, k, stride, padding, relu_inplace=False)


class Mixed5b(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = B(192, 96, 1)
        self.b1 = _seq(B(192, 48, 1), B(48, 64, 5, padding=2))
        self.b2 = _seq(B(192, 64, 1), B(64, 96, 3, padding=1), B(96, 96, 3, padding=1))
        self.b3 = _seq(nn.AvgPool2d(3, 1, 1, count_include_pad=False), B(192, 64, 1))

    def forward(self, x):
        x0 = self.b0(x)
        x1 = self.b1(x)
        x2 = self.b2(x)
        x3 = self.b3(x)
        return torch.cat((x0, x1, x2, x3), 1)


class ResBlock(nn.Module):
    """timm Block35/17/8: x0.. = branches(x); out = cat; out = conv2d(out); out = out * scale + x;
    relu (not in place)."""
    def __init__(self, branches, cin_cat, c, scale, relu=True):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.conv2d = nn.Conv2d(cin_cat, c, 1)
        self.scale = scale
        self.relu = nn.ReLU(inplace=False) if relu else None

    def forward(self, x):
        xs = [b(x) for b in self.branches]  # the named locals x0, x1, x2 stay alive to the end
        out = torch.cat(xs, 1)
        out = self.conv2d(out)
        out = out * self.scale + x
        if self.relu is not None:
            out = self.relu(out)
        return out


def block35():
    return ResBlock([B(320, 32, 1), _seq(B(320, 32, 1), B(32, 32, 3, padding=1)),
                     _seq(B(320, 32, 1), B(32, 48, 3, padding=1), B(48, 64, 3, padding=1))], 128, 320, 0.17)


def block17():
    return ResBlock([B(1088, 192, 1), _seq(B(1088, 128, 1), B(128, 160, (1, 7), padding=(0, 3)),
                                          B(160, 192, (7, 1), padding=(3, 0)))], 384, 1088, 0.10)


def block8(relu=True, scale=0.2):
    return ResBlock([B(2080, 192, 1), _seq(B(2080, 192, 1), B(192, 224, (1, 3), padding=(0, 1)),
                                          B(224, 256, (3, 1), padding=(1, 0)))], 448, 2080, scale, relu)


class Mixed6a(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = B(320, 384, 3, 2)
        self.b1 = _seq(B(320, 256, 1), B(256, 256, 3, padding=1), B(256, 384, 3, 2))
        self.b2 = nn.MaxPool2d(3, 2)

    def forward(self, x):
        x0 = self.b0(x)
        x1 = self.b1(x)
        x2 = self.b2(x)
        return torch.cat((x0, x1, x2), 1)


class Mixed7a(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = _seq(B(1088, 256, 1), B(256, 384, 3, 2))
        self.b1 = _seq(B(1088, 256, 1), B(256, 288, 3, 2))
        self.b2 = _seq(B(1088, 256, 1), B(256, 288, 3, padding=1), B(288, 320, 3, 2))
        self.b3 = nn.MaxPool2d(3, 2)

    def forward(self, x):
        x0 = self.b0(x)
        x1 = self.b1(x)
        x2 = self.b2(x)
        x3 = self.b3(x)
        return torch.cat((x0, x1, x2, x3), 1)


class IRv2(nn.Module):
    def __init__(self, repeat_containers=True):
        super().__init__()
        self.stem = nn.ModuleList([B(3, 32, 3, 2), B(32, 32, 3), B(32, 64, 3, padding=1), nn.MaxPool2d(3, 2),
                                   B(64, 80, 1), B(80, 192, 3), nn.MaxPool2d(3, 2)])
        self.mixed_5b = Mixed5b()
        b35 = [block35() for _ in range(10)]
        self.mixed_6a = Mixed6a()
        b17 = [block17() for _ in range(20)]
        self.mixed_7a = Mixed7a()
        b8 = [block8() for _ in range(9)]
        self.block8 = block8(relu=False, scale=1.0)
        self.conv2d_7b = B(2080, 1536, 1)
        self.classif = nn.Linear(1536, 1000)
        self.rc = repeat_containers
        if repeat_containers:
            self.repeat, self.repeat_1, self.repeat_2 = nn.Sequential(*b35), nn.Sequential(*b17), nn.Sequential(*b8)
        else:
            self.b35, self.b17, self.b8 = nn.ModuleList(b35), nn.ModuleList(b17), nn.ModuleList(b8)
        self.names = {"mixed_5b": self.mixed_5b, "mixed_6a": self.mixed_6a, "mixed_7a": self.mixed_7a,
                      "block8": self.block8}
        self.names.update({f"block35_{i + 1}": b for i, b in enumerate(b35)})
        self.names.update({f"block17_{i + 1}": b for i, b in enumerate(b17)})
        self.names.update({f"block8_{i + 1}": b for i, b in enumerate(b8)})

    def forward(self, x):
        for m in self.stem:
            x = m(x)
        x = self.mixed_5b(x)
        if self.rc:
            x = self.repeat(x)
        else:
            for b in self.b35:
                x = b(x)
        x = self.mixed_6a(x)
        if self.rc:
            x = self.repeat_1(x)
        else:
            for b in self.b17:
                x = b(x)
        x = self.mixed_7a(x)
        if self.rc:
            x = self.repeat_2(x)
        else:
            for b in self.b8:
                x = b(x)
        x = self.block8(x)
        x = self.conv2d_7b(x)
        return self.classif(F.adaptive_avg_pool2d(x, 1).flatten(1))


def inception_resnet_v2(repeat_containers=True):
    m = IRv2(repeat_containers)
    return m, m.names


# ---------------------------------------------------------------- BN-Inception
class CBR(nn.Module):  # conv with bias -> BN -> ReLU(inplace)
    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class BNIncModule(nn.Module):
    def __init__(self, cin, n1, r3, n3, rd, nd, proj, pool="avg"):
        super().__init__()
        self.b1 = CBR(cin, n1, 1)
        self.b3 = _seq(CBR(cin, r3, 1), CBR(r3, n3, 3))
        self.bd = _seq(CBR(cin, rd, 1), CBR(rd, nd, 3), CBR(nd, nd, 3))
        p = (nn.AvgPool2d(3, 1, 1, ceil_mode=True, count_include_pad=True) if pool == "avg"
             else nn.MaxPool2d(3, 1, 1, ceil_mode=True))
        self.bp = _seq(p, CBR(cin, proj, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.bd(x), self.bp(x)], 1)


class BNIncStride2(nn.Module):
    def __init__(self, cin, r3, n3, rd, nd):
        super().__init__()
        self.b3 = _seq(CBR(cin, r3, 1), CBR(r3, n3, 3, 2))
        self.bd = _seq(CBR(cin, rd, 1), CBR(rd, nd, 3), CBR(nd, nd, 3, 2))
        self.bp = nn.MaxPool2d(3, 2, ceil_mode=True)

    def forward(self, x):
        return torch.cat([self.b3(x), self.bd(x), self.bp(x)], 1)


class BNInception(nn.Module):
    """Modular (torchvision-GoogLeNet-like) layout of the port's network; `flat` runs the same modules' layers
    the way the Caffe-converted port's features() does: every output a named local, alive to the end."""
    def __init__(self, flat=False):
        super().__init__()
        self.conv1 = CBR(3, 64, 7, 2)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = _seq(CBR(64, 64, 1), CBR(64, 192, 3))
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.m = nn.ModuleDict({
            "3a": BNIncModule(192, 64, 64, 64, 64, 96, 32), "3b": BNIncModule(256, 64, 64, 96, 64, 96, 64),
            "3c": BNIncStride2(320, 128, 160, 64, 96),
            "4a": BNIncModule(576, 224, 64, 96, 96, 128, 128), "4b": BNIncModule(576, 192, 96, 128, 96, 128, 128),
            "4c": BNIncModule(576, 160, 128, 160, 128, 160, 128), "4d": BNIncModule(608, 96, 128, 192, 160, 192, 128),
            "4e": BNIncStride2(608, 128, 192, 192, 256),
            "5a": BNIncModule(1056, 352, 192, 320, 160, 224, 128),
            "5b": BNIncModule(1024, 352, 192, 320, 192, 224, 128, pool="max")})
        self.fc = nn.Linear(1024, 1000)
        self.flat = flat
        self.names = dict(self.m.items())

    def forward(self, x):
        if self.flat:
            return self.forward_flat(x)
        x = self.pool2(self.conv2(self.pool1(self.conv1(x))))
        for m in self.m.values():
            x = m(x)
        x = F.avg_pool2d(x, 7, 1)
        return self.fc(x.flatten(1))

    def forward_flat(self, x):
        keep = []  # every tensor the port names stays alive until features() returns

        def cbr(mod, t):
            c = mod.conv(t)
            keep.append(c)
            b = mod.bn(c)
            keep.append(b)
            F.relu(b, inplace=True)
            return b

        def seq(s, t):
            for layer in s:
                if isinstance(layer, CBR):
                    t = cbr(layer, t)
                else:
                    t = layer(t)
                    keep.append(t)
            return t

        t = cbr(self.conv1, x)
        t = self.pool1(t)
        keep.append(t)
        t = seq(self.conv2, t)
        t = self.pool2(t)
        keep.append(t)
        for m in self.m.values():
            outs = [cbr(m.b1, t)] if isinstance(m, BNIncModule) else []
            outs += [seq(m.b3, t), seq(m.bd, t)]
            if isinstance(m, BNIncModule):
                outs.append(seq(m.bp, t))
            else:
                p = m.bp(t)
                keep.append(p)
                outs.append(p)
            t = torch.cat(outs, 1)
            keep.append(t)
        feats = t
        keep = None  # features() returns; its locals go
        x = F.avg_pool2d(feats, 7, 1)
        return self.fc(x.flatten(1))


def bn_inception(flat=False):
    m = BNInception(flat)
    return m, m.names
