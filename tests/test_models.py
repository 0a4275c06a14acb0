"""The lectures' networks (course.models): the layers each promises, and forwards that compute what they say."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.models import CNN, MLP, ConvBlock, ResidualBlock, count_parameters


def test_plain_mlp_layers_and_output():
    """Linear, ReLU per hidden layer, then a linear output of the right sizes, on flat or image input?"""
    model = MLP(64, 10, width=32, depth=2)
    assert [type(m) for m in model.hidden] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert model(torch.zeros(3, 64)).shape == (3, 10)
    images = MLP(3 * 8 * 8, 5, width=16, depth=1)
    assert images(torch.zeros(2, 3, 8, 8)).shape == (2, 5)


def test_mlp_regularizing_layers_where_asked():
    """BatchNorm1d before and Dropout(p) after each activation, only when asked for, with torch's p?"""
    model = MLP(8, 2, width=4, depth=1, dropout=0.3, batchnorm=True, activation=nn.Tanh)
    assert [type(m) for m in model.hidden] == [nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout]
    assert model.hidden[3].p == 0.3


def test_mlp_forward_is_the_affine_maps_and_activations_written_out():
    """Does MLP.forward equal relu(x W1ᵀ + b1) W2ᵀ + b2 computed by hand?"""
    torch.manual_seed(0)
    model = MLP(6, 3, width=5, depth=1)
    x = torch.randn(4, 2, 3)
    lin1, lin2 = model.hidden[0], model.output
    by_hand = F.relu(x.flatten(1) @ lin1.weight.T + lin1.bias) @ lin2.weight.T + lin2.bias
    torch.testing.assert_close(model(x), by_hand)


@pytest.mark.parametrize("width, depth, stages", [(8, 1, 3), (4, 2, 2), (16, 3, 3)])
def test_cnn_parameter_count_matches_its_architecture(width, depth, stages):
    """Is the number of parameters what the stages, blocks and widths add up to (3×3 kernels, BN's γ and β)?"""
    model = CNN(10, width=width, depth=depth, stages=stages)
    expected, channels = 0, 3
    for stage in range(stages):
        out = width * 2 ** stage
        for block in range(depth):
            fan_in = channels if block == 0 else out
            expected += 9 * fan_in * out + 2 * out   # conv without bias, BatchNorm γ and β
        channels = out
    expected += channels * 10 + 10
    assert count_parameters(model) == expected


def test_cnn_output_shape_and_spatial_sizes():
    """Does a 32×32 image leave three stages at 4×4, and the network give one logit per class?"""
    model = CNN(7, width=8, depth=2)
    x = torch.randn(5, 3, 32, 32)
    assert model.features(x).shape == (5, 32, 4, 4)
    assert model(x).shape == (5, 7)
    assert CNN(10, in_channels=1)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_cnn_forward_is_features_then_global_average_pooling_then_linear():
    """Does forward equal classifier(mean over the image of features(x)) in evaluation mode?"""
    torch.manual_seed(1)
    model = CNN(4, width=4, dropout=0.5).eval()
    x = torch.randn(3, 3, 16, 16)
    h = model.features(x)
    torch.testing.assert_close(model(x), model.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1)))


def test_conv_block_is_conv_then_batchnorm_then_relu():
    """Does a ConvBlock compute relu(batch_norm(conv2d(x))) with torch's functional ops, and drop the bias under BN?"""
    torch.manual_seed(2)
    block = ConvBlock(3, 6)
    assert block.conv.bias is None
    x = torch.randn(4, 3, 8, 8)
    expected = F.relu(F.batch_norm(F.conv2d(x, block.conv.weight, padding=1), None, None,
                                   block.norm.weight, block.norm.bias, training=True))
    torch.testing.assert_close(block(x), expected)
    assert ConvBlock(3, 6, batchnorm=False).conv.bias is not None


def test_residual_block_is_the_identity_plus_its_branch():
    """With the branch's last BatchNorm scaled to zero, is a residual block relu(x)?"""
    block = ResidualBlock(4)
    nn.init.zeros_(block.norm2.weight)
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(block(x), F.relu(x))


def test_residual_variant_uses_residual_blocks_after_the_first_block_of_a_stage():
    """Does residual=True put depth-1 ResidualBlocks in each stage, after a ConvBlock that sets the width?"""
    model = CNN(10, width=8, depth=3, residual=True)
    kinds = [type(m).__name__ for m in model.features]
    assert kinds == ["ConvBlock", "ResidualBlock", "ResidualBlock", "MaxPool2d"] * 3


def test_plain_cnn_has_no_batchnorm_and_biases_instead():
    """Does batchnorm=False leave no BatchNorm2d and give every convolution a bias?"""
    model = CNN(10, batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert all(m.bias is not None for m in model.modules() if isinstance(m, nn.Conv2d))


def test_he_initialization_has_the_variance_he_et_al_derive():
    """Are convolution weights drawn with std √(2 / fan_out), and torch's own init kept with init='torch'?"""
    torch.manual_seed(3)
    conv = CNN(10, width=64, depth=2).features[1].conv      # 64 -> 64 channels, 3×3
    fan_out = 64 * 9
    assert float(conv.weight.std()) == pytest.approx(math.sqrt(2 / fan_out), rel=0.03)
    torch_init = CNN(10, width=64, depth=2, init="torch").features[1].conv
    # torch's default: kaiming_uniform with a=√5, i.e. uniform with std 1/√(3·fan_in)
    assert float(torch_init.weight.std()) == pytest.approx(1 / math.sqrt(3 * fan_out), rel=0.03)
    with pytest.raises(ValueError, match="init"):
        CNN(10, init="xavier")


def test_a_strided_stem_halves_the_image_once_more():
    """With stem_stride=2, is the feature map half the size of the default one?"""
    x = torch.randn(1, 3, 32, 32)
    assert CNN(10, width=4, stem_stride=2).features(x).shape[-1] == CNN(10, width=4).features(x).shape[-1] // 2


def test_dropout_uses_torchs_p_the_probability_of_dropping():
    """In training mode with p=1, is every feature dropped, so only the classifier's bias remains?"""
    model = CNN(3, width=4, dropout=1.0).train()
    out = model(torch.randn(2, 3, 16, 16))
    torch.testing.assert_close(out, model.classifier.bias.expand(2, 3))
