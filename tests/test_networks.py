import numpy as np
import pytest
import tensorflow as tf

from vmail_tf import networks


def test_rssm_observe_and_imagine_shapes():
    rng = tf.random.Generator.from_seed(0)
    rssm = networks.RSSM(stoch=4, deter=6, hidden=8, min_std=0.1, rng=rng)
    encoder = networks.ConvEncoder(depth=2, image_size=64)
    decoder = networks.ConvDecoder(depth=2, image_size=64)
    images = tf.zeros([3, 5, 64, 64, 3])
    embed = encoder(images)
    assert embed.shape == (3, 5, 2 * 8 * 2 * 2)
    post, prior = rssm.observe(embed, tf.zeros([3, 5, 2]))
    for state in (post, prior):
        assert state['stoch'].shape == (3, 5, 4)
        assert state['deter'].shape == (3, 5, 6)
        assert np.all(state['std'].numpy() >= 0.1)
    np.testing.assert_array_equal(post['deter'], prior['deter'])
    features = rssm.features(post)
    assert features.shape == (3, 5, 10)
    assert decoder(features).shape == (3, 5, 64, 64, 3)
    last = {k: v[:, -1] for k, v in post.items()}
    imagined = rssm.imagine_with_actions(tf.zeros([3, 7, 2]), last)
    assert imagined['deter'].shape == (3, 7, 6)


def test_128_px_encoder_and_decoder_shapes_and_other_sizes_refused():
    encoder = networks.ConvEncoder(depth=2, image_size=128)
    decoder = networks.ConvDecoder(depth=2, image_size=128)
    embed = encoder(tf.zeros([3, 128, 128, 3]))
    assert embed.shape == (3, 2 * 2 * 16 * 2)  # 128 -> 63 -> 30 -> 14 -> 6 -> 2
    assert decoder(tf.zeros([3, 10])).shape == (3, 128, 128, 3)  # 5 -> 13 -> 29 -> 62 -> 128
    with pytest.raises(ValueError, match='image_size 96 is not supported; expected one of 64, 128'):
        networks.ConvEncoder(depth=2, image_size=96)
