/**
 * The Kubernetes response types, written from the API reference (meta/v1 Status, APIGroupList, APIGroup,
 * APIResourceList, APIResource; external.metrics.k8s.io/v1beta1 ExternalMetricValueList and
 * ExternalMetricValue) and NOT from the adapter's code, so a drift in the adapter fails here.
 * Required fields follow the Go types' non-omitempty JSON tags. The meta/v1 types are checked a second
 * time with the validators generated from Kubernetes' own OpenAPI document (@kubernetes-models/apimachinery).
 */
import { validate as openApiAPIGroup } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1APIGroup';
import { validate as openApiAPIGroupList } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1APIGroupList';
import { validate as openApiAPIResourceList } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1APIResourceList';
import { validate as openApiStatus } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1Status';
import { validate as openApiTime } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1Time';
import { z } from 'zod';

type OpenApiValidate = ((data: unknown) => boolean) & { errors?: unknown };

/** Adds the OpenAPI-generated check to a zod schema. */
function alsoOpenApi<T extends z.ZodType>(schema: T, validate: OpenApiValidate, name: string): T {
  return schema.superRefine((value, ctx) => {
    if (!validate(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} (Kubernetes OpenAPI): ${JSON.stringify(validate.errors)}`,
      });
    }
  }) as unknown as T;
}

/**
 * Kubernetes quantity grammar (k8s.io/apimachinery/pkg/api/resource):
 * <quantity> ::= <signedNumber><suffix>; suffix = binarySI (Ki..Ei) | decimalSI (n u m "" k M G T P E)
 * | decimalExponent (e<signedNumber> / E<signedNumber>).
 */
export const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const ListMeta = z
  .object({
    selfLink: z.string().optional(),
    resourceVersion: z.string().optional(),
    continue: z.string().optional(),
    remainingItemCount: z.number().int().optional(),
  })
  .strict();

export const Status = alsoOpenApi(
  z
    .object({
      kind: z.literal('Status'),
      apiVersion: z.literal('v1'),
      metadata: ListMeta,
      status: z.enum(['Success', 'Failure']),
      message: z.string().min(1),
      reason: z.string(),
      code: z.number().int(),
      details: z
        .object({
          name: z.string().optional(),
          group: z.string().optional(),
          kind: z.string().optional(),
          uid: z.string().optional(),
          causes: z
            .array(z.object({ reason: z.string(), message: z.string(), field: z.string() }).partial())
            .optional(),
          retryAfterSeconds: z.number().int().optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  openApiStatus,
  'Status',
);

const GroupVersionForDiscovery = z.object({ groupVersion: z.string(), version: z.string() }).strict();

const APIGroupBody = {
  name: z.string().min(1),
  versions: z.array(GroupVersionForDiscovery).min(1),
  preferredVersion: GroupVersionForDiscovery.optional(),
  serverAddressByClientCIDRs: z
    .array(z.object({ clientCIDR: z.string(), serverAddress: z.string() }))
    .optional(),
};

export const APIGroup = alsoOpenApi(
  z.object({ kind: z.literal('APIGroup'), apiVersion: z.literal('v1'), ...APIGroupBody }).strict(),
  openApiAPIGroup,
  'APIGroup',
);

export const APIGroupList = alsoOpenApi(
  z
    .object({
      kind: z.literal('APIGroupList'),
      apiVersion: z.literal('v1'),
      groups: z.array(z.object(APIGroupBody).strict()),
    })
    .strict(),
  openApiAPIGroupList,
  'APIGroupList',
);

export const APIResource = z
  .object({
    name: z.string().min(1),
    singularName: z.string(),
    namespaced: z.boolean(),
    group: z.string().optional(),
    version: z.string().optional(),
    kind: z.string().min(1),
    verbs: z.array(z.string()),
    shortNames: z.array(z.string()).optional(),
    categories: z.array(z.string()).optional(),
    storageVersionHash: z.string().optional(),
  })
  .strict();

export const APIResourceList = alsoOpenApi(
  z
    .object({
      kind: z.literal('APIResourceList'),
      apiVersion: z.literal('v1'),
      groupVersion: z.string().min(1),
      resources: z.array(APIResource),
    })
    .strict(),
  openApiAPIResourceList,
  'APIResourceList',
);

export const ExternalMetricValue = z
  .object({
    metricName: z.string().min(1),
    metricLabels: z.record(z.string(), z.string()),
    timestamp: alsoOpenApi(z.string().regex(rfc3339), openApiTime, 'Time'),
    window: z.number().int().optional(),
    value: z.string().regex(QUANTITY),
  })
  .strict();

export const ExternalMetricValueList = z
  .object({
    kind: z.literal('ExternalMetricValueList'),
    apiVersion: z.literal('external.metrics.k8s.io/v1beta1'),
    metadata: ListMeta,
    items: z.array(ExternalMetricValue),
  })
  .strict();
