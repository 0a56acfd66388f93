import { ONNX_INPUT, ONNX_OUTPUT } from '../../src/predict/model-info.js';
import { Mlp } from './network.js';
import { ATTRIBUTE_INT, ONNX_FLOAT, onnxModelType } from './onnx-proto.js';

/** IR version 8 with opset 13: both long supported by onnxruntime (and by onnx >= 1.10). */
const IR_VERSION = 8;
const OPSET = 13;

export interface ExportMetadata {
  /** Model name, e.g. `activity-mlp`. */
  name: string;
  /** Free text for `doc_string`. */
  description: string;
  /** Key/value pairs stored in `metadata_props` (tokenizer id, labels, ...). */
  properties: Record<string, string>;
}

function floatTensor(name: string, dims: number[], data: Float32Array) {
  // raw_data is little-endian IEEE 754; copy so a subarray view never leaks its neighbours.
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return { name, dims, data_type: ONNX_FLOAT, raw_data: bytes };
}

function tensorInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })),
        },
      },
    },
  };
}

function node(op: string, inputs: string[], outputs: string[], attribute: object[] = []) {
  return { op_type: op, name: `${op}_${outputs[0]}`, input: inputs, output: outputs, attribute };
}

/**
 * The network as an ONNX model: probabilities = Softmax(Gemm(Relu(Gemm(features, W1, B1)), W2,
 * B2)). Inputs are [batch, vocab] float feature vectors made by the shared tokenizer.
 */
export function mlpToOnnx(mlp: Mlp, meta: ExportMetadata): Uint8Array {
  const { inputs, hidden, outputs } = mlp.shape;
  const model = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'carbonscope',
    producer_version: '1',
    domain: 'carbonscope',
    model_version: 1,
    doc_string: meta.description,
    metadata_props: Object.entries(meta.properties).map(([key, value]) => ({ key, value })),
    graph: {
      name: meta.name,
      node: [
        node('Gemm', [ONNX_INPUT, 'W1', 'B1'], ['hidden_pre']),
        node('Relu', ['hidden_pre'], ['hidden']),
        node('Gemm', ['hidden', 'W2', 'B2'], ['logits']),
        node('Softmax', ['logits'], [ONNX_OUTPUT], [{ name: 'axis', i: 1, type: ATTRIBUTE_INT }]),
      ],
      initializer: [
        floatTensor('W1', [inputs, hidden], mlp.w1),
        floatTensor('B1', [hidden], mlp.b1),
        floatTensor('W2', [hidden, outputs], mlp.w2),
        floatTensor('B2', [outputs], mlp.b2),
      ],
      input: [tensorInfo(ONNX_INPUT, ['batch', inputs])],
      output: [tensorInfo(ONNX_OUTPUT, ['batch', outputs])],
    },
  };
  const type = onnxModelType();
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX model does not match the schema: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

interface DecodedTensor {
  name?: string;
  dims?: (number | { toNumber(): number })[];
  raw_data?: Uint8Array;
}

/**
 * Reads the weights back out of a model written by `mlpToOnnx`, so the training code's forward
 * pass can be checked against onnxruntime on the very file that ships.
 */
export function onnxToMlp(bytes: Uint8Array): Mlp {
  const type = onnxModelType();
  const model = type.toObject(type.decode(bytes), { longs: Number }) as {
    graph?: { initializer?: DecodedTensor[] };
  };
  const tensors = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const read = (name: string): { dims: number[]; data: Float32Array } => {
    const t = tensors.get(name);
    if (!t?.raw_data) throw new Error(`initializer ${name} is missing`);
    const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
    const data = new Float32Array(t.raw_data.byteLength / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
    return { dims: (t.dims ?? []).map(Number), data };
  };
  const w1 = read('W1');
  const w2 = read('W2');
  return new Mlp(
    { inputs: w1.dims[0], hidden: w1.dims[1], outputs: w2.dims[1] },
    { w1: w1.data, b1: read('B1').data, w2: w2.data, b2: read('B2').data },
  );
}
