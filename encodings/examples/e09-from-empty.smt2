; expect: unsat
;
; semantics.md E9 "from: [] is no restriction" (S3.1.4, S3.4.2, S3.4.5).
;
; Policy set:
;   p0 = NP(prod) {podSelector: {}, ingress: [{from: [], ports: [{port: 5432}]}]}
;        policyTypes defaults to [Ingress] (S3.1.2); protocol defaults to TCP (S3.1.3).
; Universe: namespace atoms 0 = prod, 1 = other.
;
; Question: is there a flow to a prod pod on TCP 5432 that is NOT allowed?
; Expected: unsat. An empty peer list matches every source: pods of every namespace,
; addresses of both families, nodes (S3.4.2). So the rule term is just the port term.
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
; Rule 0: (peers empty: true) AND (OR of port elements: TCP 5432).
(define-fun p0.in0.peers () Bool true)
(define-fun p0.in0.ports () Bool (and (= proto TCP) (= port 5432)))
(define-fun p0.in0 () Bool (and p0.in0.peers p0.in0.ports))

; ingress_ok = dst not a pod OR own node exemption OR not isolated OR some rule matches
(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)
  (and p0.selects_dst p0.in0)))
(define-fun egress_ok () Bool true)     ; no policy has Egress
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))   ; to a prod pod
(assert (and (= proto TCP) (= port 5432)))           ; on TCP 5432
(assert (not allowed))                               ; denied: impossible
(check-sat)
