/**
 * ONNX's backend node tests (Debian's libonnx-testdata) as a regression suite: every test the
 * conformance runner selects (bench/onnx-conformance.ts: CNN ops, float32/int64 I/O; here the
 * files older than opset 7 as well) runs on simdcnn, planned (loadOnnx's default) and with every node's exact kernel ({ fuse: false }),
 * against the expected outputs at rtol 1e-3 / atol 1e-5. Every selected test is listed below,
 * as passing or as a known failure with the reason it fails; a test that stops passing, a known
 * failure that starts passing, and a test in neither list all fail this file.
 * Skipped (with a message) only where libonnx-testdata is not installed.
 */
import { describe, it, expect } from 'vitest';
import { selectCases, runSimdcnn, testdataRoot, type ConformanceCase } from '../bench/onnx-conformance';
import { memory } from '../lib/index';

/** `name` for the node suite, `suite/name` otherwise; test_ prefixes dropped. */
const EXPECTED_PASS: readonly string[] = [
  'abs', 'add', 'add_bcast', 'averagepool_1d_default', 'averagepool_2d_ceil', 'averagepool_2d_default',
  'averagepool_2d_pads', 'averagepool_2d_pads_count_include_pad', 'averagepool_2d_precomputed_pads',
  'averagepool_2d_precomputed_pads_count_include_pad', 'averagepool_2d_precomputed_same_upper',
  'averagepool_2d_precomputed_strides', 'averagepool_2d_same_lower', 'averagepool_2d_same_upper',
  'averagepool_2d_strides', 'averagepool_3d_default', 'basic_conv_with_padding', 'basic_conv_without_padding',
  'batchnorm_epsilon', 'batchnorm_epsilon_training_mode', 'batchnorm_example', 'batchnorm_example_training_mode',
  'ceil', 'ceil_example', 'celu_expanded', 'clip', 'clip_default_inbounds', 'clip_default_max', 'clip_default_min',
  'clip_example', 'clip_inbounds', 'clip_outbounds', 'clip_splitbounds', 'concat_1d_axis_0',
  'concat_1d_axis_negative_1', 'concat_2d_axis_0', 'concat_2d_axis_1', 'concat_2d_axis_negative_1',
  'concat_2d_axis_negative_2', 'concat_3d_axis_0', 'concat_3d_axis_1', 'concat_3d_axis_2',
  'concat_3d_axis_negative_1', 'concat_3d_axis_negative_2', 'concat_3d_axis_negative_3', 'constant', 'constant_pad',
  'constantofshape_float_ones', 'conv_with_autopad_same', 'conv_with_strides_and_asymmetric_padding',
  'conv_with_strides_no_padding', 'conv_with_strides_padding', 'convtranspose', 'convtranspose_1d',
  'convtranspose_3d', 'convtranspose_autopad_same', 'convtranspose_dilations', 'convtranspose_kernel_shape',
  'convtranspose_output_shape', 'convtranspose_pad', 'convtranspose_pads', 'convtranspose_with_kernel', 'div',
  'div_bcast', 'div_example', 'dropout_default', 'dropout_default_old', 'dropout_default_ratio',
  'dropout_random_old', 'elu', 'elu_default', 'elu_example', 'erf', 'exp', 'exp_example', 'expand_dim_changed',
  'expand_dim_unchanged', 'flatten_axis0', 'flatten_axis1', 'flatten_axis2', 'flatten_axis3', 'flatten_default_axis',
  'flatten_negative_axis1', 'flatten_negative_axis2', 'flatten_negative_axis3', 'flatten_negative_axis4', 'floor',
  'floor_example', 'gather_0', 'gather_1', 'gather_2d_indices', 'gather_negative_indices', 'gemm_all_attributes',
  'gemm_alpha', 'gemm_beta', 'gemm_default_matrix_bias', 'gemm_default_no_bias', 'gemm_default_scalar_bias',
  'gemm_default_single_elem_vector_bias', 'gemm_default_vector_bias', 'gemm_default_zero_bias', 'gemm_transposeA',
  'gemm_transposeB', 'hardmax_axis_0', 'hardmax_axis_1', 'hardmax_axis_2', 'hardmax_default_axis', 'hardmax_example',
  'hardmax_negative_axis', 'hardmax_one_hot', 'hardsigmoid', 'hardsigmoid_default', 'hardsigmoid_example',
  'hardswish', 'hardswish_expanded', 'identity', 'instancenorm_epsilon', 'instancenorm_example',
  'layer_normalization_2d_axis0', 'layer_normalization_2d_axis1', 'layer_normalization_2d_axis_negative_1',
  'layer_normalization_2d_axis_negative_2', 'layer_normalization_3d_axis0_epsilon',
  'layer_normalization_3d_axis1_epsilon', 'layer_normalization_3d_axis2_epsilon',
  'layer_normalization_3d_axis_negative_1_epsilon', 'layer_normalization_3d_axis_negative_2_epsilon',
  'layer_normalization_3d_axis_negative_3_epsilon', 'layer_normalization_4d_axis0', 'layer_normalization_4d_axis1',
  'layer_normalization_4d_axis2', 'layer_normalization_4d_axis3', 'layer_normalization_4d_axis_negative_1',
  'layer_normalization_4d_axis_negative_2', 'layer_normalization_4d_axis_negative_3',
  'layer_normalization_4d_axis_negative_4', 'layer_normalization_default_axis', 'leakyrelu', 'leakyrelu_default',
  'leakyrelu_example', 'log', 'log_example', 'logsoftmax_axis_0', 'logsoftmax_axis_0_expanded', 'logsoftmax_axis_1',
  'logsoftmax_axis_1_expanded', 'logsoftmax_axis_2', 'logsoftmax_axis_2_expanded', 'logsoftmax_default_axis',
  'logsoftmax_default_axis_expanded', 'logsoftmax_example_1', 'logsoftmax_example_1_expanded',
  'logsoftmax_large_number', 'logsoftmax_large_number_expanded', 'logsoftmax_negative_axis',
  'logsoftmax_negative_axis_expanded', 'lrn', 'lrn_default', 'matmul_2d', 'matmul_3d', 'matmul_4d', 'max_example',
  'max_float32', 'max_int64', 'max_one_input', 'max_two_inputs', 'maxpool_1d_default', 'maxpool_2d_ceil',
  'maxpool_2d_default', 'maxpool_2d_dilations', 'maxpool_2d_pads', 'maxpool_2d_precomputed_pads',
  'maxpool_2d_precomputed_same_upper', 'maxpool_2d_precomputed_strides', 'maxpool_2d_same_lower',
  'maxpool_2d_same_upper', 'maxpool_2d_strides', 'maxpool_3d_default', 'maxpool_with_argmax_2d_precomputed_pads',
  'maxpool_with_argmax_2d_precomputed_strides', 'mean_example', 'mean_one_input', 'mean_two_inputs', 'min_example',
  'min_float32', 'min_int64', 'min_one_input', 'min_two_inputs', 'mul', 'mul_bcast', 'mul_example', 'mvn_expanded',
  'neg', 'neg_example', 'pow', 'pow_bcast_array', 'pow_bcast_scalar', 'pow_example', 'pow_types_float',
  'pow_types_float32_int64', 'pow_types_int', 'pow_types_int64_float32', 'pow_types_int64_int64', 'prelu_broadcast',
  'prelu_example', 'pytorch-converted/AvgPool1d', 'pytorch-converted/AvgPool1d_stride',
  'pytorch-converted/AvgPool2d', 'pytorch-converted/AvgPool2d_stride', 'pytorch-converted/AvgPool3d',
  'pytorch-converted/AvgPool3d_stride', 'pytorch-converted/AvgPool3d_stride1_pad0_gpu_input',
  'pytorch-converted/BatchNorm1d_3d_input_eval', 'pytorch-converted/BatchNorm2d_eval',
  'pytorch-converted/BatchNorm2d_momentum_eval', 'pytorch-converted/BatchNorm3d_eval',
  'pytorch-converted/BatchNorm3d_momentum_eval', 'pytorch-converted/ConstantPad2d', 'pytorch-converted/Conv1d',
  'pytorch-converted/Conv1d_dilated', 'pytorch-converted/Conv1d_groups', 'pytorch-converted/Conv1d_pad1',
  'pytorch-converted/Conv1d_pad1size1', 'pytorch-converted/Conv1d_pad2', 'pytorch-converted/Conv1d_pad2size1',
  'pytorch-converted/Conv1d_stride', 'pytorch-converted/Conv2d', 'pytorch-converted/Conv2d_depthwise',
  'pytorch-converted/Conv2d_depthwise_padded', 'pytorch-converted/Conv2d_depthwise_strided',
  'pytorch-converted/Conv2d_depthwise_with_multiplier', 'pytorch-converted/Conv2d_dilated',
  'pytorch-converted/Conv2d_groups', 'pytorch-converted/Conv2d_groups_thnn', 'pytorch-converted/Conv2d_no_bias',
  'pytorch-converted/Conv2d_padding', 'pytorch-converted/Conv2d_strided', 'pytorch-converted/Conv3d',
  'pytorch-converted/Conv3d_dilated', 'pytorch-converted/Conv3d_dilated_strided', 'pytorch-converted/Conv3d_groups',
  'pytorch-converted/Conv3d_no_bias', 'pytorch-converted/Conv3d_stride', 'pytorch-converted/Conv3d_stride_padding',
  'pytorch-converted/ConvTranspose2d', 'pytorch-converted/ConvTranspose2d_no_bias', 'pytorch-converted/ELU',
  'pytorch-converted/Embedding', 'pytorch-converted/Embedding_sparse', 'pytorch-converted/GLU',
  'pytorch-converted/GLU_dim', 'pytorch-converted/LeakyReLU', 'pytorch-converted/LeakyReLU_with_negval',
  'pytorch-converted/Linear', 'pytorch-converted/Linear_no_bias', 'pytorch-converted/LogSoftmax',
  'pytorch-converted/MaxPool1d', 'pytorch-converted/MaxPool1d_stride',
  'pytorch-converted/MaxPool1d_stride_padding_dilation', 'pytorch-converted/MaxPool2d',
  'pytorch-converted/MaxPool2d_stride_padding_dilation', 'pytorch-converted/MaxPool3d',
  'pytorch-converted/MaxPool3d_stride', 'pytorch-converted/MaxPool3d_stride_padding', 'pytorch-converted/PReLU_1d',
  'pytorch-converted/PReLU_1d_multiparam', 'pytorch-converted/PReLU_2d', 'pytorch-converted/PReLU_2d_multiparam',
  'pytorch-converted/PReLU_3d', 'pytorch-converted/PReLU_3d_multiparam', 'pytorch-converted/PixelShuffle',
  'pytorch-converted/PoissonNLLLLoss_no_reduce', 'pytorch-converted/ReLU', 'pytorch-converted/ReflectionPad2d',
  'pytorch-converted/ReplicationPad2d', 'pytorch-converted/SELU', 'pytorch-converted/Sigmoid',
  'pytorch-converted/Softmax', 'pytorch-converted/Softmin', 'pytorch-converted/Softplus',
  'pytorch-converted/Softsign', 'pytorch-converted/Tanh', 'pytorch-converted/ZeroPad2d',
  'pytorch-converted/log_softmax_dim3', 'pytorch-converted/log_softmax_lastdim',
  'pytorch-converted/softmax_functional_dim3', 'pytorch-converted/softmax_lastdim',
  'pytorch-operator/operator_addmm', 'pytorch-operator/operator_basic', 'pytorch-operator/operator_chunk',
  'pytorch-operator/operator_clip', 'pytorch-operator/operator_concat2', 'pytorch-operator/operator_conv',
  'pytorch-operator/operator_convtranspose', 'pytorch-operator/operator_exp', 'pytorch-operator/operator_flatten',
  'pytorch-operator/operator_index', 'pytorch-operator/operator_max', 'pytorch-operator/operator_maxpool',
  'pytorch-operator/operator_min', 'pytorch-operator/operator_mm', 'pytorch-operator/operator_non_float_params',
  'pytorch-operator/operator_pad', 'pytorch-operator/operator_params', 'pytorch-operator/operator_permute2',
  'pytorch-operator/operator_pow', 'pytorch-operator/operator_reduced_mean',
  'pytorch-operator/operator_reduced_mean_keepdim', 'pytorch-operator/operator_reduced_sum',
  'pytorch-operator/operator_reduced_sum_keepdim', 'pytorch-operator/operator_repeat',
  'pytorch-operator/operator_repeat_dim_overflow', 'pytorch-operator/operator_selu',
  'pytorch-operator/operator_sqrt', 'pytorch-operator/operator_symbolic_override',
  'pytorch-operator/operator_symbolic_override_nested', 'pytorch-operator/operator_view',
  'range_float_type_positive_delta', 'reciprocal', 'reciprocal_example', 'reduce_l2_default_axes_keepdims_example',
  'reduce_l2_default_axes_keepdims_random', 'reduce_l2_do_not_keepdims_example', 'reduce_l2_do_not_keepdims_random',
  'reduce_l2_keep_dims_example', 'reduce_l2_keep_dims_random', 'reduce_l2_negative_axes_keep_dims_example',
  'reduce_l2_negative_axes_keep_dims_random', 'reduce_max_default_axes_keepdim_example',
  'reduce_max_default_axes_keepdims_random', 'reduce_max_do_not_keepdims_example',
  'reduce_max_do_not_keepdims_random', 'reduce_max_keepdims_example', 'reduce_max_keepdims_random',
  'reduce_max_negative_axes_keepdims_example', 'reduce_max_negative_axes_keepdims_random',
  'reduce_mean_default_axes_keepdims_example', 'reduce_mean_default_axes_keepdims_random',
  'reduce_mean_do_not_keepdims_example', 'reduce_mean_do_not_keepdims_random', 'reduce_mean_keepdims_example',
  'reduce_mean_keepdims_random', 'reduce_mean_negative_axes_keepdims_example',
  'reduce_mean_negative_axes_keepdims_random', 'reduce_min_default_axes_keepdims_example',
  'reduce_min_default_axes_keepdims_random', 'reduce_min_do_not_keepdims_example',
  'reduce_min_do_not_keepdims_random', 'reduce_min_keepdims_example', 'reduce_min_keepdims_random',
  'reduce_min_negative_axes_keepdims_example', 'reduce_min_negative_axes_keepdims_random',
  'reduce_prod_default_axes_keepdims_example', 'reduce_prod_default_axes_keepdims_random',
  'reduce_prod_do_not_keepdims_example', 'reduce_prod_do_not_keepdims_random', 'reduce_prod_keepdims_example',
  'reduce_prod_keepdims_random', 'reduce_prod_negative_axes_keepdims_example',
  'reduce_prod_negative_axes_keepdims_random', 'reduce_sum_default_axes_keepdims_example',
  'reduce_sum_default_axes_keepdims_random', 'reduce_sum_do_not_keepdims_example',
  'reduce_sum_do_not_keepdims_random', 'reduce_sum_empty_axes_input_noop_example',
  'reduce_sum_empty_axes_input_noop_random', 'reduce_sum_keepdims_example', 'reduce_sum_keepdims_random',
  'reduce_sum_negative_axes_keepdims_example', 'reduce_sum_negative_axes_keepdims_random', 'relu',
  'reshape_allowzero_reordered', 'reshape_extended_dims', 'reshape_negative_dim', 'reshape_negative_extended_dims',
  'reshape_one_dim', 'reshape_reduced_dims', 'reshape_reordered_all_dims', 'reshape_reordered_last_dims',
  'reshape_zero_and_negative_dim', 'reshape_zero_dim', 'resize_downsample_scales_cubic',
  'resize_downsample_scales_cubic_A_n0p5_exclude_outside', 'resize_downsample_scales_cubic_align_corners',
  'resize_downsample_scales_linear', 'resize_downsample_scales_linear_align_corners',
  'resize_downsample_scales_nearest', 'resize_downsample_sizes_cubic',
  'resize_downsample_sizes_linear_pytorch_half_pixel', 'resize_downsample_sizes_nearest',
  'resize_downsample_sizes_nearest_tf_half_pixel_for_nn', 'resize_tf_crop_and_resize',
  'resize_upsample_scales_cubic', 'resize_upsample_scales_cubic_A_n0p5_exclude_outside',
  'resize_upsample_scales_cubic_align_corners', 'resize_upsample_scales_cubic_asymmetric',
  'resize_upsample_scales_linear', 'resize_upsample_scales_linear_align_corners', 'resize_upsample_scales_nearest',
  'resize_upsample_sizes_cubic', 'resize_upsample_sizes_nearest', 'resize_upsample_sizes_nearest_ceil_half_pixel',
  'resize_upsample_sizes_nearest_floor_align_corners', 'resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric',
  'selu', 'selu_default', 'selu_example', 'shape', 'shape_clip_end', 'shape_clip_start', 'shape_end_1',
  'shape_end_negative_1', 'shape_example', 'shape_start_1', 'shape_start_1_end_2', 'shape_start_1_end_negative_1',
  'shape_start_negative_1', 'sigmoid', 'sigmoid_example', 'slice', 'slice_default_axes', 'slice_default_steps',
  'slice_end_out_of_bounds', 'slice_neg', 'slice_neg_steps', 'slice_negative_axes', 'slice_start_out_of_bounds',
  'softmax_axis_0', 'softmax_axis_0_expanded', 'softmax_axis_1', 'softmax_axis_1_expanded', 'softmax_axis_2',
  'softmax_axis_2_expanded', 'softmax_default_axis', 'softmax_default_axis_expanded', 'softmax_example',
  'softmax_example_expanded', 'softmax_large_number', 'softmax_large_number_expanded', 'softmax_negative_axis',
  'softmax_negative_axis_expanded', 'split_equal_parts_1d', 'split_equal_parts_2d', 'split_equal_parts_default_axis',
  'split_variable_parts_1d', 'split_variable_parts_2d', 'split_variable_parts_default_axis',
  'split_zero_size_splits', 'sqrt', 'sqrt_example', 'squeeze', 'squeeze_negative_axes', 'sub', 'sub_bcast',
  'sub_example', 'sum_example', 'sum_one_input', 'sum_two_inputs', 'tanh', 'tanh_example', 'tile',
  'tile_precomputed', 'transpose_all_permutations_0', 'transpose_all_permutations_1', 'transpose_all_permutations_2',
  'transpose_all_permutations_3', 'transpose_all_permutations_4', 'transpose_all_permutations_5',
  'transpose_default', 'unsqueeze_axis_0', 'unsqueeze_axis_1', 'unsqueeze_axis_2', 'unsqueeze_axis_3',
  'unsqueeze_negative_axes', 'unsqueeze_three_axes', 'unsqueeze_two_axes', 'unsqueeze_unsorted_axes',
  'upsample_nearest',
];

/**
 * Known failures: the test's key and a pattern its failure reason must match. Opset-1 files are
 * refused as a whole (loadOnnx implements operator semantics from opset 6 on).
 */
const KNOWN_FAILURES: Readonly<Record<string, RegExp>> = {
  'globalaveragepool': /default-domain opset 1 is not supported/,
  'globalaveragepool_precomputed': /default-domain opset 1 is not supported/,
  'globalmaxpool': /default-domain opset 1 is not supported/,
  'globalmaxpool_precomputed': /default-domain opset 1 is not supported/,
  'softplus': /default-domain opset 1 is not supported/,
  'softplus_example': /default-domain opset 1 is not supported/,
  'softsign': /default-domain opset 1 is not supported/,
  'softsign_example': /default-domain opset 1 is not supported/,
};

const key = (c: ConformanceCase): string => `${c.suite === 'node' ? '' : `${c.suite}/`}${c.name.replace(/^test_/, '')}`;

const root = testdataRoot();
if (!root) {
  // eslint-disable-next-line no-console
  console.warn('onnx-conformance.test.ts: skipped, libonnx-testdata is not installed (apt-get install libonnx-testdata)');
}

describe.skipIf(!root)('ONNX backend node tests (libonnx-testdata)', () => {
  // Every opset: the files older than the runner's table (opset-6 PyTorch exports) too.
  const cases = root ? selectCases(root, 1) : [];

  it('the selection is exactly the listed tests', () => {
    const listed = new Set([...EXPECTED_PASS, ...Object.keys(KNOWN_FAILURES)]);
    expect(listed.size).toBe(EXPECTED_PASS.length + Object.keys(KNOWN_FAILURES).length);
    const selected = new Set(cases.map(key));
    expect([...selected].filter((k) => !listed.has(k)), 'selected but in neither list').toEqual([]);
    expect([...listed].filter((k) => !selected.has(k)), 'listed but not in the test data').toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(480);
  });

  for (const [mode, opts] of [['planned', undefined], ['exact kernels', { fuse: false }]] as const) {
    it(`every expected test passes, every known failure fails for its reason (${mode})`, async () => {
      const regressions: string[] = [], fixed: string[] = [], wrongReason: string[] = [];
      const before = memory();
      for (const c of cases) {
        const k = key(c);
        const r = await runSimdcnn(c, opts);
        const known = KNOWN_FAILURES[k];
        if (known) {
          if (r.pass) fixed.push(k);
          else if (!known.test(r.reason)) wrongReason.push(`${k}: ${r.reason}`);
        } else if (EXPECTED_PASS.includes(k) && !r.pass) regressions.push(`${k}: ${r.reason}`);
      }
      expect(regressions, 'expected to pass').toEqual([]);
      expect(fixed, 'known failures that now pass: move them to EXPECTED_PASS').toEqual([]);
      expect(wrongReason, 'known failures failing for another reason').toEqual([]);
      // Every model, plan and intermediate is freed (the runner disposes what it made).
      const after = memory();
      expect({ tensors: after.tensors, bytes: after.bytes }).toEqual({ tensors: before.tensors, bytes: before.bytes });
    });
  }
});
