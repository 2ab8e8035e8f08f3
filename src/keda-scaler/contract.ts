/**
 * kq's definition of KEDA's external scaler wire contract (`externalscaler.ExternalScaler`), written as a
 * protobuf JSON descriptor rather than a `.proto` file: the bundled CLI then has no file to find at run
 * time. Field numbers and types are what matter on the wire; test/keda-scaler/contract.test.ts checks
 * them against KEDA's own `externalscaler.proto`, and every scaler test talks to kq through a client
 * built from that upstream file.
 */
import { type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

const ref = (type: string) => ({ requestType: 'ScaledObjectRef', responseType: type });

/** protobufjs' JSON namespace type, as proto-loader takes it (its typings want optional parts too). */
type ProtoJson = Parameters<typeof fromJSON>[0];

export const EXTERNAL_SCALER_DESCRIPTOR = {
  nested: {
    externalscaler: {
      nested: {
        ExternalScaler: {
          methods: {
            IsActive: ref('IsActiveResponse'),
            StreamIsActive: { ...ref('IsActiveResponse'), responseStream: true },
            GetMetricSpec: ref('GetMetricSpecResponse'),
            GetMetrics: { requestType: 'GetMetricsRequest', responseType: 'GetMetricsResponse' },
            StreamMetricSpec: { ...ref('GetMetricSpecResponse'), responseStream: true },
          },
        },
        ScaledObjectRef: {
          fields: {
            name: { type: 'string', id: 1 },
            namespace: { type: 'string', id: 2 },
            scalerMetadata: { keyType: 'string', type: 'string', id: 3 },
          },
        },
        IsActiveResponse: { fields: { result: { type: 'bool', id: 1 } } },
        GetMetricSpecResponse: {
          fields: { metricSpecs: { rule: 'repeated', type: 'MetricSpec', id: 1 } },
        },
        MetricSpec: {
          fields: {
            metricName: { type: 'string', id: 1 },
            targetSize: { type: 'int64', id: 2 },
            targetSizeFloat: { type: 'double', id: 3 },
          },
        },
        GetMetricsRequest: {
          fields: {
            scaledObjectRef: { type: 'ScaledObjectRef', id: 1 },
            metricName: { type: 'string', id: 2 },
          },
        },
        GetMetricsResponse: {
          fields: { metricValues: { rule: 'repeated', type: 'MetricValue', id: 1 } },
        },
        MetricValue: {
          fields: {
            metricName: { type: 'string', id: 1 },
            metricValue: { type: 'int64', id: 2 },
            metricValueFloat: { type: 'double', id: 3 },
          },
        },
      },
    },
  },
};

/** Decoded messages: int64 as JS numbers, absent fields as their defaults, field names as in the proto. */
export const LOADER_OPTIONS = { keepCase: true, longs: Number, defaults: true } as const;

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
export interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}
export interface MetricSpec {
  metricName: string;
  targetSize: number;
  targetSizeFloat: number;
}
export interface MetricValue {
  metricName: string;
  metricValue: number;
  metricValueFloat: number;
}

/** The `ExternalScaler` service constructor (its `.service` is what a grpc-js Server registers). */
export function externalScalerService(): ServiceClientConstructor {
  const pkg = loadPackageDefinition(
    fromJSON(EXTERNAL_SCALER_DESCRIPTOR as unknown as ProtoJson, LOADER_OPTIONS),
  );
  return (pkg.externalscaler as GrpcObject).ExternalScaler as ServiceClientConstructor;
}
