//! FIX tag numbers by name: every tag foxtrot's code reads or writes. Code says
//! `tags::CL_ORD_ID`, never `11`. Names follow the FIX specification's field
//! names in SCREAMING_SNAKE_CASE; the full set of defined tags (with types and
//! enumerations) is the data dictionary's, not this module's.

/// A FIX tag number.
pub type Tag = u32;

// Standard header.
/// BeginString: `FIX.4.2`, `FIX.4.4`; always the first field.
pub const BEGIN_STRING: Tag = 8;
/// BodyLength: always the second field.
pub const BODY_LENGTH: Tag = 9;
/// MsgType: always the third field.
pub const MSG_TYPE: Tag = 35;
/// SenderCompID.
pub const SENDER_COMP_ID: Tag = 49;
/// TargetCompID.
pub const TARGET_COMP_ID: Tag = 56;
/// OnBehalfOfCompID.
pub const ON_BEHALF_OF_COMP_ID: Tag = 115;
/// DeliverToCompID.
pub const DELIVER_TO_COMP_ID: Tag = 128;
/// SecureDataLen.
pub const SECURE_DATA_LEN: Tag = 90;
/// SecureData.
pub const SECURE_DATA: Tag = 91;
/// MsgSeqNum.
pub const MSG_SEQ_NUM: Tag = 34;
/// SenderSubID.
pub const SENDER_SUB_ID: Tag = 50;
/// SenderLocationID.
pub const SENDER_LOCATION_ID: Tag = 142;
/// TargetSubID.
pub const TARGET_SUB_ID: Tag = 57;
/// TargetLocationID.
pub const TARGET_LOCATION_ID: Tag = 143;
/// OnBehalfOfSubID.
pub const ON_BEHALF_OF_SUB_ID: Tag = 116;
/// OnBehalfOfLocationID.
pub const ON_BEHALF_OF_LOCATION_ID: Tag = 144;
/// DeliverToSubID.
pub const DELIVER_TO_SUB_ID: Tag = 129;
/// DeliverToLocationID.
pub const DELIVER_TO_LOCATION_ID: Tag = 145;
/// PossDupFlag.
pub const POSS_DUP_FLAG: Tag = 43;
/// PossResend.
pub const POSS_RESEND: Tag = 97;
/// SendingTime.
pub const SENDING_TIME: Tag = 52;
/// OrigSendingTime.
pub const ORIG_SENDING_TIME: Tag = 122;
/// LastMsgSeqNumProcessed.
pub const LAST_MSG_SEQ_NUM_PROCESSED: Tag = 369;

// Standard trailer.
/// SignatureLength.
pub const SIGNATURE_LENGTH: Tag = 93;
/// Signature.
pub const SIGNATURE: Tag = 89;
/// CheckSum: always the last field.
pub const CHECK_SUM: Tag = 10;

// Session messages.
/// EncryptMethod (Logon).
pub const ENCRYPT_METHOD: Tag = 98;
/// HeartBtInt (Logon).
pub const HEART_BT_INT: Tag = 108;
/// ResetSeqNumFlag (Logon).
pub const RESET_SEQ_NUM_FLAG: Tag = 141;
/// Username (Logon, FIX 4.4).
pub const USERNAME: Tag = 553;
/// Password (Logon, FIX 4.4).
pub const PASSWORD: Tag = 554;
/// TestReqID (TestRequest, Heartbeat).
pub const TEST_REQ_ID: Tag = 112;
/// BeginSeqNo (ResendRequest).
pub const BEGIN_SEQ_NO: Tag = 7;
/// EndSeqNo (ResendRequest).
pub const END_SEQ_NO: Tag = 16;
/// NewSeqNo (SequenceReset).
pub const NEW_SEQ_NO: Tag = 36;
/// GapFillFlag (SequenceReset).
pub const GAP_FILL_FLAG: Tag = 123;
/// RefSeqNum (Reject).
pub const REF_SEQ_NUM: Tag = 45;
/// RefTagID (Reject).
pub const REF_TAG_ID: Tag = 371;
/// RefMsgType (Reject, BusinessMessageReject).
pub const REF_MSG_TYPE: Tag = 372;
/// SessionRejectReason (Reject).
pub const SESSION_REJECT_REASON: Tag = 373;
/// BusinessRejectRefID (BusinessMessageReject).
pub const BUSINESS_REJECT_REF_ID: Tag = 379;
/// BusinessRejectReason (BusinessMessageReject).
pub const BUSINESS_REJECT_REASON: Tag = 380;
/// Text.
pub const TEXT: Tag = 58;

// Orders and execution reports.
/// Account.
pub const ACCOUNT: Tag = 1;
/// AvgPx.
pub const AVG_PX: Tag = 6;
/// ClOrdID.
pub const CL_ORD_ID: Tag = 11;
/// CumQty.
pub const CUM_QTY: Tag = 14;
/// ExecID.
pub const EXEC_ID: Tag = 17;
/// ExecRefID: the execution a bust or correction refers to.
pub const EXEC_REF_ID: Tag = 19;
/// ExecTransType (FIX 4.2).
pub const EXEC_TRANS_TYPE: Tag = 20;
/// HandlInst.
pub const HANDL_INST: Tag = 21;
/// LastPx.
pub const LAST_PX: Tag = 31;
/// LastShares (4.2) / LastQty (4.4).
pub const LAST_QTY: Tag = 32;
/// LastLiquidityInd (FIX 4.3+): 1 the fill added liquidity, 2 it removed it.
pub const LAST_LIQUIDITY_IND: Tag = 851;
/// OrderID.
pub const ORDER_ID: Tag = 37;
/// OrderQty.
pub const ORDER_QTY: Tag = 38;
/// OrdStatus.
pub const ORD_STATUS: Tag = 39;
/// OrdType.
pub const ORD_TYPE: Tag = 40;
/// OrigClOrdID.
pub const ORIG_CL_ORD_ID: Tag = 41;
/// Price.
pub const PRICE: Tag = 44;
/// Side.
pub const SIDE: Tag = 54;
/// Symbol.
pub const SYMBOL: Tag = 55;
/// TimeInForce.
pub const TIME_IN_FORCE: Tag = 59;
/// TransactTime.
pub const TRANSACT_TIME: Tag = 60;
/// OrdRejReason.
pub const ORD_REJ_REASON: Tag = 103;
/// CxlRejReason.
pub const CXL_REJ_REASON: Tag = 102;
/// ExecType.
pub const EXEC_TYPE: Tag = 150;
/// LeavesQty.
pub const LEAVES_QTY: Tag = 151;
/// CxlRejResponseTo.
pub const CXL_REJ_RESPONSE_TO: Tag = 434;
/// MassCancelRequestType (OrderMassCancelRequest).
pub const MASS_CANCEL_REQUEST_TYPE: Tag = 530;
/// MassCancelResponse (OrderMassCancelReport).
pub const MASS_CANCEL_RESPONSE: Tag = 531;
/// MassCancelRejectReason (OrderMassCancelReport).
pub const MASS_CANCEL_REJECT_REASON: Tag = 532;
/// TotalAffectedOrders (OrderMassCancelReport).
pub const TOTAL_AFFECTED_ORDERS: Tag = 533;
/// MassStatusReqID / OrdStatusReqID context: OrdStatusReqID (FIX 4.4).
pub const ORD_STATUS_REQ_ID: Tag = 790;
/// NoRoutingIDs (a repeating group's count).
pub const NO_ROUTING_IDS: Tag = 215;
/// NoRelatedSym (a repeating group's count).
pub const NO_RELATED_SYM: Tag = 146;
/// ExecInst.
pub const EXEC_INST: Tag = 18;
/// SecurityID.
pub const SECURITY_ID: Tag = 48;

/// MsgType values foxtrot handles, as their wire bytes.
pub mod msg_type {
    /// Heartbeat.
    pub const HEARTBEAT: &[u8] = b"0";
    /// TestRequest.
    pub const TEST_REQUEST: &[u8] = b"1";
    /// ResendRequest.
    pub const RESEND_REQUEST: &[u8] = b"2";
    /// Reject (session level).
    pub const REJECT: &[u8] = b"3";
    /// SequenceReset.
    pub const SEQUENCE_RESET: &[u8] = b"4";
    /// Logout.
    pub const LOGOUT: &[u8] = b"5";
    /// ExecutionReport.
    pub const EXECUTION_REPORT: &[u8] = b"8";
    /// OrderCancelReject.
    pub const ORDER_CANCEL_REJECT: &[u8] = b"9";
    /// Logon.
    pub const LOGON: &[u8] = b"A";
    /// NewOrderSingle.
    pub const NEW_ORDER_SINGLE: &[u8] = b"D";
    /// OrderCancelRequest.
    pub const ORDER_CANCEL_REQUEST: &[u8] = b"F";
    /// OrderCancelReplaceRequest.
    pub const ORDER_CANCEL_REPLACE_REQUEST: &[u8] = b"G";
    /// OrderStatusRequest.
    pub const ORDER_STATUS_REQUEST: &[u8] = b"H";
    /// BusinessMessageReject.
    pub const BUSINESS_MESSAGE_REJECT: &[u8] = b"j";
    /// OrderMassCancelRequest.
    pub const ORDER_MASS_CANCEL_REQUEST: &[u8] = b"q";
    /// OrderMassCancelReport.
    pub const ORDER_MASS_CANCEL_REPORT: &[u8] = b"r";

    /// Whether a MsgType is a session-level (administrative) message.
    pub fn is_admin(t: &[u8]) -> bool {
        matches!(t, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
    }
}
