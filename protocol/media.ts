// Shapes of the mediasoup parameters that cross the wire. mediasoup validates
// them again; these bound their size and reject obvious garbage early.
import { z } from 'zod';

const str = z.string().max(512);
const small = <T extends z.ZodTypeAny>(item: T, max = 64) => z.array(item).max(max);

export const DtlsParametersSchema = z
  .object({
    role: z.enum(['auto', 'client', 'server']).optional(),
    fingerprints: small(z.object({ algorithm: z.string().max(32), value: str }).strict(), 8).min(1),
  })
  .strict();

const RtcpFeedbackSchema = z.object({ type: z.string().max(64), parameter: z.string().max(64).optional() }).strict();
const CodecParametersSchema = z.record(z.string().max(64), z.union([z.string().max(256), z.number()]));

const RtpCodecCapabilitySchema = z
  .object({
    kind: z.enum(['audio', 'video']),
    mimeType: z.string().max(64),
    preferredPayloadType: z.number().int().min(0).max(127).optional(),
    clockRate: z.number().int().positive(),
    channels: z.number().int().positive().optional(),
    parameters: CodecParametersSchema.optional(),
    rtcpFeedback: small(RtcpFeedbackSchema, 32).optional(),
  })
  .strict();

const RtpHeaderExtensionSchema = z
  .object({
    kind: z.enum(['audio', 'video']).optional(),
    uri: z.string().max(256),
    preferredId: z.number().int().min(1).max(255),
    preferredEncrypt: z.boolean().optional(),
    direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
  })
  .strict();

export const RtpCapabilitiesSchema = z
  .object({
    codecs: small(RtpCodecCapabilitySchema).optional(),
    headerExtensions: small(RtpHeaderExtensionSchema).optional(),
  })
  .strict();

const RtpCodecParametersSchema = z
  .object({
    mimeType: z.string().max(64),
    payloadType: z.number().int().min(0).max(127),
    clockRate: z.number().int().positive(),
    channels: z.number().int().positive().optional(),
    parameters: CodecParametersSchema.optional(),
    rtcpFeedback: small(RtcpFeedbackSchema, 32).optional(),
  })
  .strict();

const RtpEncodingSchema = z
  .object({
    ssrc: z.number().int().nonnegative().optional(),
    rid: z.string().max(32).optional(),
    codecPayloadType: z.number().int().optional(),
    rtx: z.object({ ssrc: z.number().int().nonnegative() }).strict().optional(),
    dtx: z.boolean().optional(),
    scalabilityMode: z.string().max(16).optional(),
    scaleResolutionDownBy: z.number().positive().optional(),
    maxBitrate: z.number().positive().optional(),
    maxFramerate: z.number().positive().optional(),
    adaptivePtime: z.boolean().optional(),
    priority: z.string().max(16).optional(),
    networkPriority: z.string().max(16).optional(),
    active: z.boolean().optional(),
  })
  .strict();

export const RtpParametersSchema = z
  .object({
    mid: z.string().max(32).optional(),
    codecs: small(RtpCodecParametersSchema).min(1),
    headerExtensions: small(
      z
        .object({
          uri: z.string().max(256),
          id: z.number().int().min(1).max(255),
          encrypt: z.boolean().optional(),
          parameters: CodecParametersSchema.optional(),
        })
        .strict(),
    ).optional(),
    encodings: small(RtpEncodingSchema, 8).optional(),
    rtcp: z
      .object({
        cname: z.string().max(256).optional(),
        reducedSize: z.boolean().optional(),
        mux: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * A display channel's SCTP stream (tile display): ordered and reliable only (tiles are deltas; one lost
 * message would leave a wrong picture), so no lifetime or retransmit limit is accepted.
 */
export const SctpStreamParametersSchema = z
  .object({
    streamId: z.number().int().min(0).max(65534),
    ordered: z.literal(true).optional(),
  })
  .strict();

const IceParametersSchema = z
  .object({
    usernameFragment: z.string().min(1).max(256),
    password: z.string().min(1).max(256),
    iceLite: z.boolean().optional(),
  })
  .strip();

const IceCandidateSchema = z
  .object({
    foundation: z.string().max(64),
    priority: z.number().int().nonnegative(),
    /** mediasoup sends both (`ip` is the older name of `address`). */
    ip: z.string().max(256).optional(),
    address: z.string().max(256).optional(),
    protocol: z.enum(['udp', 'tcp']),
    port: z.number().int().min(1).max(65535),
    type: z.enum(['host', 'srflx', 'prflx', 'relay']),
    tcpType: z.enum(['active', 'passive', 'so']).optional(),
  })
  .strip();

const SctpParametersSchema = z
  .object({
    port: z.number().int().min(0).max(65535),
    OS: z.number().int().min(1).max(65535),
    MIS: z.number().int().min(1).max(65535),
    maxMessageSize: z.number().int().positive(),
  })
  .strip();

/**
 * Keys the server's mediasoup adds beyond these (sctpBufferedAmount, ...; more in a newer version) are
 * dropped, not refused: nothing reads them, and a node must not fail against a newer server for them.
 *
 * A new WebRtcTransport as the server describes it to the side that will use it (a renderer node): parsed
 * before mediasoup-client sees it, so a hostile or broken server's garbage fails here with a typed error.
 */
export const TransportParamsSchema = z
  .object({
    id: z.string().min(1).max(128),
    iceParameters: IceParametersSchema,
    iceCandidates: small(IceCandidateSchema, 32).min(1),
    dtlsParameters: DtlsParametersSchema,
    sctpParameters: SctpParametersSchema.optional(),
  })
  .strip();

/** What the server returns for a new WebRtcTransport (the viewer does not parse it yet: see TransportParamsSchema). */
export interface TransportParams {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
  /** Present on a transport opened with SCTP (tile display). */
  sctpParameters?: unknown;
}

/** A viewer's consumer of a replica's display channel. */
export interface DataConsumerParams {
  id: string;
  dataProducerId: string;
  sctpStreamParameters: unknown;
  label: string;
  replicaId: string;
}

export interface ConsumerParams {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: unknown;
  replicaId: string;
}
