; expect: unsat
;
; semantics.md E28 "Named port protocol must agree" (S3.1.3, S3.6.2).
;
; Policy set:
;   p0 = NP(ops) {podSelector: {}, ingress: [{ports: [{port: dns}]}]}
;        The element has no protocol, so it is {protocol: TCP, port: dns}.
; Universe: namespace atoms 0 = ops, 1 = other; port names: dns.
;
; Question: is a UDP flow to an ops pod that serves "dns" on that very UDP port
; (ops/dns: dns=53/UDP) allowed, from a source other than its own node?
; Expected: unsat: the element demands proto = TCP, whatever the pod declares.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_ops () Int 0)
(define-fun NS_other () Int 1)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const |dst.serves[dns]| Bool)
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_ops)))
(define-fun p0.in0 () Bool (and (= proto TCP) (= dst.kind POD) |dst.serves[dns]|))

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)
  (and p0.selects_dst p0.in0)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (not (= src.kind LOCAL_NODE)))
(assert (and (= dst.kind POD) (= dst.ns NS_ops)))
(assert (and (= proto UDP) (= port 53) |dst.serves[dns]|))   ; ops/dns, dns=53/UDP
(assert allowed)
(check-sat)
