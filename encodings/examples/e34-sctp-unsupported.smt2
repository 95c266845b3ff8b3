; expect: unsat
;
; semantics.md E34, flag part: --sctp=unsupported (S6.8): SCTP elements match nothing.
;
; Policy set:
;   p0 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}            (E2)
;   p1 = NP(prod) {podSelector: {}, ingress: [{ports: [{protocol: SCTP, port: 5432}]}]}
; Universe: namespace atoms 0 = prod, 1 = other.
;
; Question: with the flag, is SCTP 5432 into a prod pod allowed (not from its node)?
; Expected: unsat: the element is false, but the policies still isolate (S6.8).
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun allow_from_local_node () Bool true)
(define-fun sctp_supported () Bool false)  ; --sctp=unsupported

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
(define-fun p1.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
; SCTP element: false under --sctp=unsupported, else proto = SCTP and port = 5432.
(define-fun p1.in0 () Bool (and sctp_supported (= proto SCTP) (= port 5432)))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not (or p0.selects_dst p1.selects_dst))
  (and p1.selects_dst p1.in0)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (not (= src.kind LOCAL_NODE)))
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))
(assert (and (= proto SCTP) (= port 5432)))
(assert allowed)
(check-sat)
